import { text } from 'node:stream/consumers';
import { hashPassword } from '../../functions/domain/credentials.ts';

/**
 * `printf '%s' '<password>' | npm run hash-password --silent`: prints the scrypt hash of the password read on
 * standard input (never from the command line, which shells keep in their history), for the `password_hash`
 * of a reference-data file.
 */
const password = (await text(process.stdin)).replace(/\r?\n$/, '');
if (password === '') {
  console.error("usage: printf '%s' '<password>' | npm run hash-password --silent");
  process.exit(2);
}
console.log(await hashPassword(password));
