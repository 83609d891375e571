import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addStage } from '../../../infra/service.ts';
import type { SiteConfig } from '../../../infra/site-config.ts';
import { stageConfig } from '../../../infra/stages.ts';
import { type CfnTemplate, resourcesOfType, type Templates } from './cloudformation.ts';

/** A function as its template deploys it: what Lambda reads from AWS::Lambda::Function, and where its code is. */
export type DeployedFunction = {
  readonly stack: string;
  readonly logicalId: string;
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The template's Environment.Variables, intrinsics unresolved. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The asset directory in cdk.out that is zipped and uploaded as the function's code. */
  readonly codeDir: string;
};

export type SynthesizedStage = {
  readonly outdir: string;
  readonly templates: Templates;
  readonly functions: readonly DeployedFunction[];
  remove(): void;
};

const cdkContext = (
  JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

type AssemblyManifest = { artifacts: Record<string, { type: string; properties?: { file?: string } }> };
type AssetManifest = {
  files?: Record<
    string,
    { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }
  >;
};

/**
 * The directories `cdk deploy` zips and uploads, by S3 object key: what a function's `Code.S3Key` names is
 * exactly the code Lambda runs.
 */
const publishedDirectories = (outdir: string): Map<string, string> => {
  const read = <T>(file: string) => JSON.parse(readFileSync(join(outdir, file), 'utf8')) as T;
  const directories = new Map<string, string>();
  for (const artifact of Object.values(read<AssemblyManifest>('manifest.json').artifacts)) {
    if (artifact.type !== 'cdk:asset-manifest' || !artifact.properties?.file) continue;
    for (const asset of Object.values(read<AssetManifest>(artifact.properties.file).files ?? {})) {
      if (asset.source.packaging !== 'zip') continue;
      for (const destination of Object.values(asset.destinations)) {
        directories.set(destination.objectKey, join(outdir, asset.source.path));
      }
    }
  }
  return directories;
};

/**
 * Synthesizes one stage as `cdk synth` does (cdk.json's context, esbuild bundling on) into a fresh directory
 * outside the repository, so that a bundle can resolve nothing from the project's node_modules. CDK's built-in
 * CloudFormation validation is off (its engine takes seconds to start); CI runs cfn-lint on the templates.
 */
export const synthesizeStage = (stageName: string, site: SiteConfig): SynthesizedStage => {
  const outdir = mkdtempSync(join(tmpdir(), 'clear-pin-bundles-'));
  const app = new App({ outdir, context: cdkContext, builtinCloudFormationValidation: false });
  addStage(app, stageConfig(stageName, site));
  const assembly = app.synth();
  const templates: Record<string, CfnTemplate> = Object.fromEntries(
    assembly.stacks.map((stack) => [stack.stackName, stack.template as CfnTemplate]),
  );
  const codeDirs = publishedDirectories(outdir);
  const functions = resourcesOfType(templates, 'AWS::Lambda::Function').map(({ stack, logicalId, resource }) => {
    const properties = resource.Properties ?? {};
    const objectKey = (properties.Code as { S3Key?: unknown } | undefined)?.S3Key;
    const codeDir = codeDirs.get(String(objectKey));
    if (codeDir === undefined || !existsSync(codeDir)) {
      throw new Error(`${stack}/${logicalId}: no directory in cdk.out is published as its code ${String(objectKey)}`);
    }
    // Lambda's defaults where a template sets nothing.
    return {
      stack,
      logicalId,
      handler: String(properties.Handler),
      runtime: String(properties.Runtime),
      timeoutSeconds: Number(properties.Timeout ?? 3),
      memoryMb: Number(properties.MemorySize ?? 128),
      variables: ((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>,
      codeDir,
    };
  });
  return {
    outdir,
    templates,
    functions,
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
};
