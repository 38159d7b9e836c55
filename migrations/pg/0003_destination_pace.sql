ALTER TABLE "destination_state" ADD COLUMN "pace_rate" double precision;--> statement-breakpoint
ALTER TABLE "destination_state" ADD COLUMN "pace_concurrency" integer;--> statement-breakpoint
ALTER TABLE "destination_state" ADD COLUMN "pace_at" bigint;