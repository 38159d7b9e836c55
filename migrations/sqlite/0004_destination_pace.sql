ALTER TABLE `destination_state` ADD `pace_rate` real;--> statement-breakpoint
ALTER TABLE `destination_state` ADD `pace_concurrency` integer;--> statement-breakpoint
ALTER TABLE `destination_state` ADD `pace_at` integer;