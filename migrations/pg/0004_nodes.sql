CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"version" text NOT NULL,
	"listeners" jsonb NOT NULL,
	"draining" jsonb NOT NULL,
	"started_at" bigint NOT NULL,
	"seen_at" bigint NOT NULL
);
