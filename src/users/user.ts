/** A person who signs in. */
export interface User {
  id: string;
  username: string;
  email: string | null;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
  passwordChangedAt: Date;
}

/** The admin API's and CLI's JSON shape; never includes the password hash. */
export function userToJson(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    password_changed_at: user.passwordChangedAt.toISOString(),
  };
}
