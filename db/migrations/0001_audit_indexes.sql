CREATE INDEX `audit_outcome_idx` ON `audit_events` (`outcome`,`id`);--> statement-breakpoint
CREATE INDEX `audit_workspace_ref_idx` ON `audit_events` (`workspace`,`id`);