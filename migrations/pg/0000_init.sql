CREATE TABLE "attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" bigint NOT NULL,
	"duration_ms" integer NOT NULL,
	"status" integer,
	"error" text,
	"response" "bytea"
);
--> statement-breakpoint
CREATE TABLE "dedupe_keys" (
	"source" text NOT NULL,
	"key" text NOT NULL,
	"event_id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "dedupe_keys_source_key_pk" PRIMARY KEY("source","key")
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_seq" bigint NOT NULL,
	"destination" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"due_at" bigint,
	"finished_at" bigint,
	"last_error" text,
	"priority" integer DEFAULT 0 NOT NULL,
	"replayed_at" bigint,
	"attempts_before_replay" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "destination_state" (
	"name" text PRIMARY KEY NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"held_until" bigint,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "destination_tokens" (
	"name" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"refilled_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"source" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"query" text NOT NULL,
	"headers" text NOT NULL,
	"body" "bytea" NOT NULL,
	"remote_addr" text,
	"received_at" bigint NOT NULL,
	CONSTRAINT "events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_event_seq_events_seq_fk" FOREIGN KEY ("event_seq") REFERENCES "public"."events"("seq") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attempts_delivery" ON "attempts" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "dedupe_keys_expiry" ON "dedupe_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "deliveries_due_by_priority" ON "deliveries" USING btree ("destination","priority","due_at","id") WHERE "deliveries"."due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_fifo" ON "deliveries" USING btree ("destination","event_seq") WHERE "deliveries"."due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_finished" ON "deliveries" USING btree ("status","finished_at") WHERE "deliveries"."finished_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_finished_by_destination" ON "deliveries" USING btree ("destination","status","finished_at") WHERE "deliveries"."finished_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_event" ON "deliveries" USING btree ("event_seq");