CREATE TABLE `dedupe_keys` (
	`source` text NOT NULL,
	`key` text NOT NULL,
	`event_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`source`, `key`)
);
--> statement-breakpoint
CREATE INDEX `dedupe_keys_expiry` ON `dedupe_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `destination_state` (
	`name` text PRIMARY KEY NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `deliveries_due`;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `priority` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `replayed_at` integer;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `attempts_before_replay` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `deliveries_due_by_priority` ON `deliveries` (`destination`,`priority`,`due_at`) WHERE "deliveries"."due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `deliveries_finished_by_destination` ON `deliveries` (`destination`,`status`,`finished_at`) WHERE "deliveries"."finished_at" IS NOT NULL;