CREATE TABLE `oauth_apps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`client_id` text NOT NULL,
	`authorize_url` text NOT NULL,
	`token_url` text NOT NULL,
	`scopes` text DEFAULT '' NOT NULL,
	`base_url` text,
	`secret_blob` blob NOT NULL,
	`wrapped_key` blob NOT NULL,
	`key_id` text NOT NULL,
	`created_by` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_apps_name_unique` ON `oauth_apps` (`name`);--> statement-breakpoint
CREATE TABLE `oauth_client_states` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`app_name` text NOT NULL,
	`credential_id` text NOT NULL,
	`code_verifier` text NOT NULL,
	`return_to` text NOT NULL,
	`reconnect` integer DEFAULT false NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oauth_client_states_expires_idx` ON `oauth_client_states` (`expires_at`);--> statement-breakpoint
ALTER TABLE `credentials` ADD `connected_app` text;--> statement-breakpoint
ALTER TABLE `credentials` ADD `connected_account` text;--> statement-breakpoint
ALTER TABLE `credentials` ADD `connection_status` text;--> statement-breakpoint
ALTER TABLE `credentials` ADD `token_expires_at` integer;--> statement-breakpoint
ALTER TABLE `credentials` ADD `token_refresh_at` integer;--> statement-breakpoint
ALTER TABLE `credentials` ADD `refreshing_until` integer;