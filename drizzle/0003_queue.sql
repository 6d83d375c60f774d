CREATE TABLE "user_settings" (
	"user_id" text PRIMARY KEY NOT NULL,
	"mode" text,
	"aspect_ratio" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "guild_settings" ADD COLUMN "user_daily_quota" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "mode" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "claimed_by" bigint;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "queue_position" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "position_shown_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "delivering_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "tasks_user_created_idx" ON "tasks" USING btree ("user_id","created_at");