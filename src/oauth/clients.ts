// OAuth clients: registered with POST /oauth/register (RFC 7591), or identified by the URL of a
// Client ID Metadata Document, which is fetched through the checked outbound client (the SSRF
// rules and OUTBOUND_ALLOW_HOSTS apply) with its own small caps.
import { randomBytes } from 'node:crypto';
import { checkClientMetadata, checkMetadataUrl, isMetadataClientId, type Failure, type FailureReason } from '../domain/oauth';
import type { Deps } from '../env';
import { createOutboundClient } from '../http/outbound';
import { findClient, insertRegisteredClient, saveMetadataClient, type OAuthClient } from '../store/oauth';

/** A metadata document is a few hundred bytes; anything near these caps is not one. */
export const METADATA_MAX_BYTES = 5 * 1024;
export const METADATA_TIMEOUT_MS = 5_000;

/** Registers a public client from an RFC 7591 body; returns it, or why the metadata is refused. */
export async function registerClient(deps: Deps, body: unknown): Promise<{ ok: true; client: OAuthClient } | Failure> {
  const checked = checkClientMetadata(body);
  if (!checked.ok) return checked;
  const clientId = `lkcl_${randomBytes(16).toString('base64url')}`;
  return { ok: true, client: await insertRegisteredClient(deps.store, clientId, checked.metadata) };
}

/**
 * Returns the client a client_id names: a registered one from the database, or one described by
 * its metadata document, fetched now (so a changed document counts at the next authorization).
 */
export async function resolveClient(deps: Deps, clientId: string): Promise<{ ok: true; client: OAuthClient } | Failure> {
  if (!clientId) return { ok: false, reason: 'client_id_missing' };
  if (!isMetadataClientId(clientId)) {
    const client = await findClient(deps.store, clientId);
    return client?.kind === 'registered' ? { ok: true, client } : { ok: false, reason: 'client_unknown' };
  }
  const badUrl = checkMetadataUrl(clientId);
  if (badUrl) return { ok: false, reason: badUrl };
  const fetched = await fetchMetadataDocument(deps, clientId);
  if (!fetched.ok) return fetched;
  return { ok: true, client: await saveMetadataClient(deps.store, clientId, fetched.metadata) };
}

async function fetchMetadataDocument(deps: Deps, url: string) {
  // A client of its own: the caps differ from a toolkit call's (15 s, 1 MiB), the rules do not.
  const outbound = createOutboundClient({ allowHosts: deps.config.outboundAllowHosts, timeoutMs: METADATA_TIMEOUT_MS, maxBytes: METADATA_MAX_BYTES });
  try {
    const res = await outbound.send({ method: 'GET', url, headers: { accept: 'application/json' } });
    if (!res.ok) {
      const reason: FailureReason = res.reason === 'destination_not_allowed' ? 'metadata_not_allowed' : res.reason === 'too_large' ? 'metadata_too_large' : 'metadata_unreachable';
      deps.log.warn('client metadata document refused', { host: new URL(url).host, reason: res.reason });
      return { ok: false as const, reason };
    }
    let doc = res.body;
    if (typeof doc === 'string') {
      try {
        doc = JSON.parse(doc);
      } catch {
        doc = null;
      }
    }
    if (res.status !== 200 || !doc || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false as const, reason: 'metadata_not_json' as const };
    if ((doc as Record<string, unknown>).client_id !== url) return { ok: false as const, reason: 'metadata_client_id_mismatch' as const };
    return checkClientMetadata(doc);
  } finally {
    await outbound.close();
  }
}
