import { InvalidInputError } from '../core/errors.js';

export interface DbUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** `mysql://USER:PASSWORD@HOST:PORT/DATABASE`; DATABASE defaults to `cloud`. Errors never echo the password. */
export function parseDbUrl(raw: string): DbUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(`--db: not a URL; expected mysql://USER:PASSWORD@HOST:PORT/DATABASE`);
  }
  if (url.protocol !== 'mysql:') {
    throw new InvalidInputError(
      `--db: scheme "${url.protocol.replace(/:$/, '')}" is not mysql; expected mysql://USER:PASSWORD@HOST:PORT/DATABASE`,
    );
  }
  if (!url.hostname)
    throw new InvalidInputError('--db: no host; expected mysql://USER:PASSWORD@HOST:PORT/DATABASE');
  if (!url.username)
    throw new InvalidInputError('--db: no user; expected mysql://USER:PASSWORD@HOST:PORT/DATABASE');
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      // A bare % (say in a password): name the part, never its text.
      throw new InvalidInputError(`--db: the ${what} holds a % that is not %XX; write a literal % as %25`);
    }
  };
  const database = decode(url.pathname.replace(/^\//, ''), 'database name') || 'cloud';
  if (database.includes('/')) throw new InvalidInputError(`--db: database name "${database}" contains "/"`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 3306,
    user: decode(url.username, 'user'),
    password: decode(url.password, 'password'),
    database,
  };
}

export function describeDb(db: DbUrl): string {
  return `mysql://${db.user}@${db.host}:${db.port}/${db.database}`;
}
