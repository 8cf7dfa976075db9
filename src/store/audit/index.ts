// The audit log, one module per concern: append (and what the hash covers), verify, query, stats.
export { DAY_MS } from '../../domain/audit-event';
export type { AuditEvent, AuditEventFull, AuditOutcome, AuditScope, ChainState, ExecutionStats } from '../../domain/audit-event';
export * from './append';
export * from './verify';
export * from './query';
export * from './stats';
