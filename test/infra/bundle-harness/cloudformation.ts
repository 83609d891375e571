import { createHash } from 'node:crypto';

/**
 * Just enough CloudFormation to read synthesized templates as a deployment would see them: intrinsic functions
 * resolved to strings, and the physical names and ARNs the resources would get. Pure: the values of resources
 * come from a lookup the caller passes in.
 */

export type CfnResource = {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
};

export type CfnTemplate = {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
};

/** The templates of one cloud assembly, by stack name. */
export type Templates = Readonly<Record<string, CfnTemplate>>;

/** `Ref` (attribute `Ref`) or `Fn::GetAtt` of one resource of one stack. */
export type ResourceAttribute = { readonly stack: string; readonly logicalId: string; readonly attribute: string };

/** The value of a resource attribute, or undefined when the caller has none for it. */
export type Lookup = (ref: ResourceAttribute) => string | undefined;

/** Where the stacks are taken to be deployed: any fixed account and region do, as nothing reaches AWS. */
export type Placement = { readonly region: string; readonly account: string };

export class UnresolvedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedError';
  }
}

export const resourceOf = (templates: Templates, stack: string, logicalId: string): CfnResource => {
  const resource = templates[stack]?.Resources?.[logicalId];
  if (!resource) throw new UnresolvedError(`No resource ${logicalId} in stack ${stack}`);
  return resource;
};

/** Every resource of a type, over all stacks. */
export const resourcesOfType = (templates: Templates, type: string) =>
  Object.entries(templates).flatMap(([stack, template]) =>
    Object.entries(template.Resources ?? {})
      .filter(([, resource]) => resource.Type === type)
      .map(([logicalId, resource]) => ({ stack, logicalId, resource })),
  );

const pseudoParameter = (name: string, stack: string, placement: Placement): string | undefined =>
  ({
    'AWS::Region': placement.region,
    'AWS::AccountId': placement.account,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stack,
  })[name];

const asString = (value: unknown, where: string): string => {
  if (typeof value !== 'string') throw new UnresolvedError(`${where} did not resolve to a string`);
  return value;
};

/**
 * Resolves the intrinsic functions in `value` (a property of a resource of `stack`): Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, Fn::Select, Fn::GetStackOutput (CDK's weak cross-stack references) and Fn::ImportValue. A resource
 * attribute the lookup has no value for, or any other intrinsic, throws: a value is never guessed.
 */
export const resolveValue = (
  templates: Templates,
  stack: string,
  value: unknown,
  lookup: Lookup,
  placement: Placement,
): unknown => {
  const again = (inner: unknown, inStack = stack) => resolveValue(templates, inStack, inner, lookup, placement);
  const attribute = (logicalId: string, attributeName: string): string => {
    resourceOf(templates, stack, logicalId);
    const found = lookup({ stack, logicalId, attribute: attributeName });
    if (found === undefined) throw new UnresolvedError(`No value for ${stack}/${logicalId}.${attributeName}`);
    return found;
  };
  if (Array.isArray(value)) return value.map((item) => again(item));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [name, argument] = entries[0] ?? [];
  if (entries.length !== 1 || !(name === 'Ref' || name?.startsWith('Fn::'))) {
    return Object.fromEntries(entries.map(([key, inner]) => [key, again(inner)]));
  }
  switch (name) {
    case 'Ref': {
      const target = asString(argument, 'Ref');
      return pseudoParameter(target, stack, placement) ?? attribute(target, 'Ref');
    }
    case 'Fn::GetAtt': {
      const [logicalId, attributeName] = (typeof argument === 'string' ? argument.split('.') : argument) as string[];
      return attribute(asString(logicalId, 'Fn::GetAtt'), asString(attributeName, 'Fn::GetAtt'));
    }
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown];
      return (again(parts) as unknown[]).map((part) => asString(part, 'Fn::Join')).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      return (again(list) as unknown[])[Number(again(index))];
    }
    case 'Fn::Sub': {
      const [text, variables] = (typeof argument === 'string' ? [argument, {}] : argument) as [
        string,
        Record<string, unknown>,
      ];
      return text.replace(/\$\{([^}!]+)\}/g, (_, reference: string) => {
        if (reference in variables) return asString(again(variables[reference]), `Fn::Sub \${${reference}}`);
        const pseudo = pseudoParameter(reference, stack, placement);
        if (pseudo !== undefined) return pseudo;
        const [logicalId, ...rest] = reference.split('.');
        return attribute(logicalId as string, rest.length === 0 ? 'Ref' : rest.join('.'));
      });
    }
    case 'Fn::GetStackOutput': {
      const { StackName, OutputName } = argument as { StackName: unknown; OutputName: unknown };
      const other = asString(again(StackName), 'Fn::GetStackOutput StackName');
      const output = templates[other]?.Outputs?.[asString(OutputName, 'Fn::GetStackOutput OutputName')];
      if (!output) throw new UnresolvedError(`Stack ${other} has no output ${String(OutputName)}`);
      return again(output.Value, other);
    }
    case 'Fn::ImportValue': {
      const exportName = asString(again(argument), 'Fn::ImportValue');
      for (const [other, template] of Object.entries(templates)) {
        for (const output of Object.values(template.Outputs ?? {})) {
          if (output.Export && again(output.Export.Name, other) === exportName) return again(output.Value, other);
        }
      }
      throw new UnresolvedError(`No stack exports ${exportName}`);
    }
    default:
      throw new UnresolvedError(`Unsupported intrinsic ${name} in ${stack}`);
  }
};

/** True when `value` contains a Ref or Fn::GetAtt of `logicalId` (e.g. an integration URI naming a function). */
export const refersTo = (value: unknown, logicalId: string): boolean => {
  if (Array.isArray(value)) return value.some((item) => refersTo(item, logicalId));
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  if (record.Ref === logicalId) return true;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId) return true;
  if (typeof getAtt === 'string' && getAtt.split('.')[0] === logicalId) return true;
  return Object.values(record).some((inner) => refersTo(inner, logicalId));
};

/** CloudFormation's generated name when a template names none: `<stack>-<logical id>-<suffix>`. */
const generatedName = (ref: ResourceAttribute) =>
  `${ref.stack}-${ref.logicalId}-${createHash('sha256').update(`${ref.stack}/${ref.logicalId}`).digest('hex').slice(0, 12).toUpperCase()}`;

/**
 * The physical values a deployment in `placement` would give the resources (names, ARNs, queue URLs), for the
 * types the service uses; undefined for any other attribute. Names the template sets are used as they are.
 */
export const physicalValues = (templates: Templates, placement: Placement): Lookup => {
  const { region, account } = placement;
  const physical: Lookup = (ref) => {
    const resource = resourceOf(templates, ref.stack, ref.logicalId);
    const property = (key: string): string => {
      const set = resource.Properties?.[key];
      return set === undefined
        ? generatedName(ref)
        : asString(resolveValue(templates, ref.stack, set, physical, placement), `${ref.logicalId}.${key}`);
    };
    const { attribute } = ref;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const name = property('TableName');
        return { Ref: name, Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}` }[attribute];
      }
      case 'AWS::SQS::Queue': {
        const name = property('QueueName');
        const url = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
        return { Ref: url, QueueUrl: url, QueueName: name, Arn: `arn:aws:sqs:${region}:${account}:${name}` }[attribute];
      }
      case 'AWS::SecretsManager::Secret': {
        // Secrets Manager appends six random characters to the name in the ARN.
        const suffix = createHash('sha256').update(ref.logicalId).digest('base64url').slice(0, 6);
        const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${property('Name')}-${suffix}`;
        return { Ref: arn, Id: arn }[attribute];
      }
      case 'AWS::Logs::LogGroup': {
        const name = property('LogGroupName');
        return { Ref: name, Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` }[attribute];
      }
      case 'AWS::IAM::Role': {
        const name = property('RoleName');
        return { Ref: name, Arn: `arn:aws:iam::${account}:role/${name}`, RoleId: `AROA${name}` }[attribute];
      }
      case 'AWS::Lambda::Function': {
        const name = property('FunctionName');
        return { Ref: name, Arn: `arn:aws:lambda:${region}:${account}:function:${name}` }[attribute];
      }
      case 'AWS::Events::EventBus': {
        const name = property('Name');
        return { Ref: name, Name: name, Arn: `arn:aws:events:${region}:${account}:event-bus/${name}` }[attribute];
      }
      case 'AWS::Events::Rule': {
        const name = property('Name');
        return { Ref: name, Arn: `arn:aws:events:${region}:${account}:rule/${name}` }[attribute];
      }
      default:
        return undefined;
    }
  };
  return physical;
};
