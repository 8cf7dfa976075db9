ALTER TABLE `credentials` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `toolkits` ADD `fallback_credential_id` text;--> statement-breakpoint
ALTER TABLE `toolkits` ADD `fallback_row_id` integer REFERENCES credentials(id) ON DELETE set null;