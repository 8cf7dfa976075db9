-- drizzle-kit leaves out ON DELETE for an added column: set null written by hand (a deleted fallback credential leaves the toolkit with its ID and no row).
ALTER TABLE `credentials` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `toolkits` ADD `fallback_credential_id` text;--> statement-breakpoint
ALTER TABLE `toolkits` ADD `fallback_row_id` integer REFERENCES credentials(id) ON DELETE set null;