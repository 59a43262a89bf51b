/** Roles are stored as one text column, space-separated, so both engines index and read them alike. */
export function parseRoles(text: string): string[] {
  return text.split(' ').filter((role) => role.length > 0);
}

export function formatRoles(roles: readonly string[]): string {
  return [...new Set(roles)].sort().join(' ');
}
