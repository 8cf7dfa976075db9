// The shapes the store returns and the views render. Pure types: the store fills them from its
// rows, services pass them on, views read them; nothing here touches the database.
import type { ProjectRole, WorkspaceRole } from './access';
import type { Candidate, CredentialScope, RunsWith, ToolkitStatus } from './resolution';
import type { Expiry } from './expiry';

/** A workspace as the current user may see it, with their role in it. */
export type Workspace = {
  id: number;
  kind: 'private' | 'project';
  /** 'private' for the caller's Private workspace, else the project's slug. */
  ref: string;
  name: string;
  role: WorkspaceRole;
  /** The owner of a Private workspace (the caller); null for projects. */
  ownerUserId: string | null;
};

export type ProjectSummary = { id: number; slug: string; name: string; role: ProjectRole };

export type Member = { userId: string; username: string; role: ProjectRole; since: number };

/** A private-scope project toolkit's fallback: a project credential's ID and row (rowId null once it was deleted). */
export type FallbackRef = { credentialId: string; rowId: number | null };

/** The credential a toolkit names: the project's row (rowId) or an agreed private Credential ID (with an optional fallback). */
export type ToolkitCredentialRef = { scope: CredentialScope; credentialId: string; rowId: number | null; fallback: FallbackRef | null };

export type Toolkit = {
  id: number;
  name: string;
  type: string;
  settings: Record<string, string>;
  credential: ToolkitCredentialRef;
  createdAt: number;
  updatedAt: number;
};

/** A checked toolkit, ready to be written. */
export type ToolkitInput = {
  name: string;
  type: string;
  settings: Record<string, string>;
  credential: ToolkitCredentialRef;
};

/** A project member and their own private credential with a given Credential ID (or null); `disabled`: the person is deactivated. */
export type MemberCredentialState = { username: string; role: string; disabled: boolean; credential: Candidate | null };

/** What anyone allowed to see a credential may see: never a secret. */
export type CredentialMeta = {
  rowId: number;
  credentialId: string;
  name: string;
  type: string;
  scope: 'project' | 'private';
  fields: Record<string, string>;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  lastTest: { at: number; ok: boolean; message: string } | null;
  /** When it stops working (ms), or null when unknown. */
  expiresAt: number | null;
  /** Set for a connected account (src/connect): the OAuth app, the provider's account name, its status. */
  connection?: { app: string; account: string | null; status: 'active' | 'reconnect_required' };
};

/** A toolkit that uses a credential, with the workspace it lives in. */
export type ToolkitRef = { id: number; name: string; workspace: string; workspaceName: string };

export type ApiTokenInfo = { id: number; name: string; createdAt: number; lastUsedAt: number | null };

export type PublicUser = { id: string; username: string; isAdmin: boolean; disabled: boolean; createdAt: number };

export type UserWithProjects = PublicUser & { projects: number };

/** One member's status for a toolkit: ready or why not, whose credential runs, and its expiry. */
export type MemberRun = { status: ToolkitStatus; runsWith?: RunsWith; expiry: Expiry };

/** An OAuth grant as its person sees it on Settings (never a token). */
export type GrantInfo = { id: number; clientName: string; redirectHost: string; createdAt: number; lastUsedAt: number | null };

/** A registered OAuth app for connected accounts (never its client secret). */
export type OAuthApp = {
  name: string;
  provider: string;
  clientId: string;
  authorizeUrl: string;
  tokenUrl: string;
  scopes: string;
  baseUrl: string | null;
  createdAt: number;
};
