DROP INDEX `deliveries_fifo`;--> statement-breakpoint
DROP INDEX `deliveries_by_order_key`;--> statement-breakpoint
CREATE INDEX `deliveries_fifo` ON `deliveries` (`destination`,`event_seq`) WHERE "deliveries"."finished_at" IS NULL;--> statement-breakpoint
CREATE INDEX `deliveries_by_order_key` ON `deliveries` (`destination`,`order_key`,`event_seq`) WHERE "deliveries"."finished_at" IS NULL;