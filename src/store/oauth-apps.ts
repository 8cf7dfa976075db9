// OAuth apps (the client side of connected accounts): metadata in the clear, the client secret
// sealed with the app's own data key wrapped by the master key, like a credential's secrets.
import { first, one } from './engine';
import type { OAuthApp } from '../domain/models';
import { asc, eq } from 'drizzle-orm';

import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey, type Binding } from '../crypto/envelope';
import { appendAudit, type AuditActor } from './audit';
import { writeTx, type Store } from './store';

/** An app as pages and the API see it: never the client secret. */
export type { OAuthApp };

export type OAuthAppInput = Omit<OAuthApp, 'createdAt'> & { clientSecret: string };

import type { oauthApps } from '../../db/schema';

type Row = typeof oauthApps.$inferSelect;

/** The binding of an app's wrapped key and sealed secret: its row, instance-wide. */
export const oauthAppBinding = (rowId: number): Binding => ({ purpose: 'oauth_app', rowId, scope: 'instance', ownerId: 'instance' });

const toApp = (r: Row): OAuthApp => ({
  name: r.name,
  provider: r.provider,
  clientId: r.clientId,
  authorizeUrl: r.authorizeUrl,
  tokenUrl: r.tokenUrl,
  scopes: r.scopes,
  baseUrl: r.baseUrl,
  createdAt: r.createdAt,
});

/** Returns every app by name. */
export async function listOAuthApps(store: Store): Promise<OAuthApp[]> {
  const { oauthApps } = store.t;
  return (await store.db.select().from(oauthApps).orderBy(asc(oauthApps.name))).map(toApp);
}

/** Returns one app by name, or null. */
export async function getOAuthApp(store: Store, name: string): Promise<OAuthApp | null> {
  const { oauthApps } = store.t;
  const r = first(await store.db.select().from(oauthApps).where(eq(oauthApps.name, name)));
  return r ? toApp(r) : null;
}

/** Returns an app with its client secret opened, only for a call to its token endpoint. */
export async function loadOAuthAppForUse(store: Store, name: string): Promise<(OAuthApp & { clientSecret: string }) | null> {
  const { oauthApps } = store.t;
  const r = first(await store.db.select().from(oauthApps).where(eq(oauthApps.name, name)));
  if (!r) return null;
  const binding = oauthAppBinding(r.id);
  const { client_secret } = openSecrets(unwrapDataKey(store.ring, r.wrappedKey, binding), r.secretBlob, binding);
  return { ...toApp(r), clientSecret: client_secret ?? '' };
}

/** Stores a new app with its secret sealed (false when the name is taken); audited without the secret. */
export async function createOAuthApp(store: Store, actor: AuditActor, input: OAuthAppInput): Promise<OAuthApp | null> {
  const { oauthApps } = store.t;
  return writeTx(store, async (tx) => {
    if (first(await tx.select({ id: oauthApps.id }).from(oauthApps).where(eq(oauthApps.name, input.name)))) return null;
    const { clientSecret, ...meta } = input;
    // The row id is part of the binding, so insert first with placeholders, then seal.
    const row = one(await tx.insert(oauthApps).values({ ...meta, secretBlob: Buffer.alloc(0), wrappedKey: Buffer.alloc(0), keyId: store.ring.active.id, createdBy: actor?.id ?? null }).returning());
    const binding = oauthAppBinding(row.id);
    const dataKey = createDataKey();
    await tx.update(oauthApps)
      .set({ wrappedKey: wrapDataKey(store.ring, dataKey, binding), secretBlob: sealSecrets(dataKey, { client_secret: clientSecret }, binding) })
      .where(eq(oauthApps.id, row.id));
    await appendAudit(store, tx, { actor, workspace: null, action: 'oauth_app.create', target: `oauth_app:${input.name}`, details: { provider: input.provider, client_id: input.clientId } });
    return toApp(row);
  });
}

/** Deletes an app; false when there is none by that name. Its connected credentials stay until their next refresh. */
export async function deleteOAuthApp(store: Store, actor: AuditActor, name: string): Promise<boolean> {
  const { oauthApps } = store.t;
  return writeTx(store, async (tx) => {
    const row = first(await tx.select({ id: oauthApps.id, provider: oauthApps.provider }).from(oauthApps).where(eq(oauthApps.name, name)));
    if (!row) return false;
    await tx.delete(oauthApps).where(eq(oauthApps.id, row.id));
    await appendAudit(store, tx, { actor, workspace: null, action: 'oauth_app.delete', target: `oauth_app:${name}`, details: { provider: row.provider } });
    return true;
  });
}
