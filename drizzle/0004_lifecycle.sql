ALTER TABLE "tasks" ADD COLUMN "claim" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "delivery_lease" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "delivery_due" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "delivery_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "last_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "missed_polls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "running_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "result_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "cancelled_by" text;--> statement-breakpoint
-- Rows written before the lifecycle: a claim not yet at its relay is "claimed"; a stored result not yet shown is
-- due in the outbox; the relay's last sign of life and its start are what the old columns knew.
UPDATE "tasks" SET "status" = 'claimed' WHERE "status" = 'submitted' AND "upstream_id" IS NULL;--> statement-breakpoint
UPDATE "tasks" SET "last_seen_at" = coalesce("last_progress_at", "started_at"), "running_since" = CASE WHEN "status" = 'running' THEN "started_at" END WHERE "status" IN ('submitted', 'running');--> statement-breakpoint
UPDATE "tasks" SET "result_at" = now(), "delivery_due" = now(), "delivery_since" = now() WHERE "status" = 'running' AND ("image_urls" IS NOT NULL OR "descriptions" IS NOT NULL);--> statement-breakpoint
CREATE INDEX "tasks_delivery_due_idx" ON "tasks" USING btree ("delivery_due") WHERE delivery_due is not null;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_status_check" CHECK ("tasks"."status" in ('queued', 'claimed', 'submitted', 'running', 'succeeded', 'failed', 'cancelled'));