CREATE TABLE "tasks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"parent_id" uuid,
	"guild_id" text,
	"channel_id" text NOT NULL,
	"user_id" text NOT NULL,
	"locale" text DEFAULT 'en-US' NOT NULL,
	"action" text NOT NULL,
	"prompt" text NOT NULL,
	"prompt_upstream" text NOT NULL,
	"provider" text NOT NULL,
	"account" text,
	"upstream_id" text,
	"upstream_data" jsonb,
	"status" text DEFAULT 'queued' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"image_urls" jsonb,
	"actions" jsonb,
	"fail_reason" text,
	"callback_token" text,
	"interaction_token" text,
	"token_expires_at" timestamp with time zone,
	"message_id" text,
	"delivery_attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"last_progress_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "tasks_status_created_idx" ON "tasks" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "tasks_created_idx" ON "tasks" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "tasks_parent_idx" ON "tasks" USING btree ("parent_id");