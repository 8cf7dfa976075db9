// OAuth apps (the client side of connected accounts): metadata in the clear, the client secret
// sealed with the app's own data key wrapped by the master key, like a credential's secrets.
import type { OAuthApp } from '../domain/models';
import { asc, eq } from 'drizzle-orm';
import { oauthApps } from '../../db/schema';
import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey, type Binding } from '../crypto/envelope';
import { appendAudit, type AuditActor } from './audit';
import { writeTx, type Store } from './store';

/** An app as pages and the API see it: never the client secret. */
export type { OAuthApp };

export type OAuthAppInput = Omit<OAuthApp, 'createdAt'> & { clientSecret: string };

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
  return store.db.select().from(oauthApps).orderBy(asc(oauthApps.name)).all().map(toApp);
}

/** Returns one app by name, or null. */
export async function getOAuthApp(store: Store, name: string): Promise<OAuthApp | null> {
  const r = store.db.select().from(oauthApps).where(eq(oauthApps.name, name)).get();
  return r ? toApp(r) : null;
}

/** Returns an app with its client secret opened, only for a call to its token endpoint. */
export function loadOAuthAppForUse(store: Store, name: string): (OAuthApp & { clientSecret: string }) | null {
  const r = store.db.select().from(oauthApps).where(eq(oauthApps.name, name)).get();
  if (!r) return null;
  const binding = oauthAppBinding(r.id);
  const { client_secret } = openSecrets(unwrapDataKey(store.ring, r.wrappedKey, binding), r.secretBlob, binding);
  return { ...toApp(r), clientSecret: client_secret ?? '' };
}

/** Stores a new app with its secret sealed (false when the name is taken); audited without the secret. */
export async function createOAuthApp(store: Store, actor: AuditActor, input: OAuthAppInput): Promise<OAuthApp | null> {
  return writeTx(store, (tx) => {
    if (tx.select({ id: oauthApps.id }).from(oauthApps).where(eq(oauthApps.name, input.name)).get()) return null;
    const { clientSecret, ...meta } = input;
    // The row id is part of the binding, so insert first with placeholders, then seal.
    const row = tx.insert(oauthApps).values({ ...meta, secretBlob: Buffer.alloc(0), wrappedKey: Buffer.alloc(0), keyId: store.ring.active.id, createdBy: actor?.id ?? null }).returning().get();
    const binding = oauthAppBinding(row.id);
    const dataKey = createDataKey();
    tx.update(oauthApps)
      .set({ wrappedKey: wrapDataKey(store.ring, dataKey, binding), secretBlob: sealSecrets(dataKey, { client_secret: clientSecret }, binding) })
      .where(eq(oauthApps.id, row.id))
      .run();
    appendAudit(store, tx, { actor, workspace: null, action: 'oauth_app.create', target: `oauth_app:${input.name}`, details: { provider: input.provider, client_id: input.clientId } });
    return toApp(row);
  });
}

/** Deletes an app; false when there is none by that name. Its connected credentials stay until their next refresh. */
export async function deleteOAuthApp(store: Store, actor: AuditActor, name: string): Promise<boolean> {
  return writeTx(store, (tx) => {
    const row = tx.select({ id: oauthApps.id, provider: oauthApps.provider }).from(oauthApps).where(eq(oauthApps.name, name)).get();
    if (!row) return false;
    tx.delete(oauthApps).where(eq(oauthApps.id, row.id)).run();
    appendAudit(store, tx, { actor, workspace: null, action: 'oauth_app.delete', target: `oauth_app:${name}`, details: { provider: row.provider } });
    return true;
  });
}
