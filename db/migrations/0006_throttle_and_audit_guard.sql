CREATE TABLE `auth_throttle` (
	`key` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `auth_throttle_key_at_idx` ON `auth_throttle` (`key`,`at`);--> statement-breakpoint
CREATE UNIQUE INDEX `audit_prev_hash_idx` ON `audit_events` (`prev_hash`);