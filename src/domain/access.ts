// Who may do what. Pure rules; routes ask these and the data layer scopes every query.
export type ProjectRole = 'admin' | 'editor' | 'viewer';
/** 'owner' is the user in their own Private workspace. */
export type WorkspaceRole = ProjectRole | 'owner';

export const PROJECT_ROLES: ProjectRole[] = ['admin', 'editor', 'viewer'];

export const ROLE_LABELS: Record<WorkspaceRole, string> = {
  admin: 'Admin',
  editor: 'Editor',
  viewer: 'Viewer',
  owner: 'Owner',
};

/** True when the role may create, edit and delete toolkits and credentials in the workspace. */
export function canEdit(role: WorkspaceRole): boolean {
  return role === 'owner' || role === 'admin' || role === 'editor';
}

/** True when the role may add, change and remove project members. */
export function canManageMembers(role: WorkspaceRole): boolean {
  return role === 'admin';
}

/** Returns the role, or null when the text is not a project role. */
export function parseRole(value: unknown): ProjectRole | null {
  return typeof value === 'string' && (PROJECT_ROLES as string[]).includes(value) ? (value as ProjectRole) : null;
}
