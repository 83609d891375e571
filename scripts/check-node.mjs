// npm itself runs on the system Node; the scripts must run on the pinned node@24 devDependency.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `This project needs Node.js >= 24 (found ${process.versions.node}). Run it through npm scripts after \`npm ci\`, which installs node@24 into node_modules/.bin.`,
  );
  process.exit(1);
}
