import { text } from 'node:stream/consumers';
import { hashPassword } from '../../functions/domain/credentials.ts';

/**
 * `read -rs PASSWORD && printf '%s' "$PASSWORD" | npm run hash-password --silent`: prints the scrypt hash of the
 * password read on standard input, for the `password_hash` of a reference-data file. Never on a command line,
 * which shells keep in their history: `read -s` takes it unechoed.
 */
const password = (await text(process.stdin)).replace(/\r?\n$/, '');
if (password === '') {
  console.error('usage: read -rs PASSWORD && printf \'%s\' "$PASSWORD" | npm run hash-password --silent');
  process.exit(2);
}
console.log(await hashPassword(password));
