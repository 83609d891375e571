import type { BuildOptions } from 'esbuild';
import { SERVICE_BUNDLING } from '../../infra/constructs/service-function.ts';

type BundlingOptions = typeof SERVICE_BUNDLING;

/** The `esbuildArgs` the bench knows how to pass; CDK appends each as `--flag:value`. */
const esbuildArgsOf = (args: NonNullable<BundlingOptions['esbuildArgs']>): BuildOptions => {
  const { '--alias': alias, '--legal-comments': legalComments, ...rest } = args;
  if (Object.keys(rest).length > 0) throw new Error(`bench/lib/bundling.ts cannot pass ${Object.keys(rest)} yet`);
  const entries = alias === undefined ? [] : Array.isArray(alias) ? alias : [String(alias)];
  const pairs = entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
  return {
    ...(pairs.length > 0 && { alias: Object.fromEntries(pairs) }),
    ...(legalComments !== undefined && { legalComments: String(legalComments) as BuildOptions['legalComments'] }),
  };
};

/**
 * The esbuild JS API options for what CDK's NodejsFunction runs as `esbuild --bundle <entry> …` for the given
 * bundling props (aws-cdk-lib/aws-lambda-nodejs/lib/bundling.js, `buildEsbuildArgs`). An option this does not
 * translate throws, so that the bench cannot silently build something other than what is deployed.
 */
export const esbuildOptionsOf = (bundling: BundlingOptions = SERVICE_BUNDLING): BuildOptions => {
  const {
    format,
    target,
    mainFields,
    banner,
    minify,
    sourceMap,
    sourcesContent,
    externalModules,
    esbuildArgs,
    ...unknown
  } = bundling;
  if (Object.keys(unknown).length > 0) {
    throw new Error(`bench/lib/bundling.ts does not translate ${Object.keys(unknown)}: add it as CDK passes it`);
  }
  // CDK's default externals depend on the runtime and on feature flags; the bench does not guess them.
  if (!externalModules) throw new Error('bench/lib/bundling.ts needs externalModules named');
  return {
    bundle: true,
    platform: 'node',
    ...(format ? { format } : {}),
    ...(target ? { target } : {}),
    ...(mainFields ? { mainFields } : {}),
    ...(banner ? { banner: { js: banner } } : {}),
    minify: minify ?? false,
    // CDK's `--sourcemap` with no mode: a linked `.map` file.
    sourcemap: sourceMap ?? false,
    sourcesContent: sourcesContent ?? true,
    external: externalModules,
    ...(esbuildArgs ? esbuildArgsOf(esbuildArgs) : {}),
  };
};
