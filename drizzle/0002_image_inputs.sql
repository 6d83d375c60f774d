ALTER TABLE "tasks" ADD COLUMN "input" jsonb;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "descriptions" jsonb;