import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TableIndex } from '../table-schema.ts';

export type ServiceTableProps = {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly timeToLiveAttribute: string;
  readonly indexes?: readonly TableIndex[];
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
};

/**
 * A DynamoDB table with the defaults this service never varies: on demand, point-in-time recovery, encryption
 * with the AWS-managed key (visible in CloudTrail, no key to run), string keys. Grants name the table or one
 * index, never `index/*` as `TableV2.grant` would, so a function can query only the index it needs.
 */
export class ServiceTable extends Construct {
  readonly table: TableV2;
  private readonly indexNames: ReadonlySet<string>;

  constructor(scope: Construct, id: string, props: ServiceTableProps) {
    super(scope, id);
    const indexes = props.indexes ?? [];
    this.indexNames = new Set(indexes.map((i) => i.name));
    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: props.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: props.timeToLiveAttribute,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
      globalSecondaryIndexes: indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        ...(index.sortKey === undefined ? {} : { sortKey: { name: index.sortKey, type: AttributeType.STRING } }),
        ...(index.include
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: ProjectionType.KEYS_ONLY }),
      })),
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** The named actions on the table's items (not on its indexes). */
  grant(grantee: IGrantable, ...actions: string[]): Grant {
    return Grant.addToPrincipal({ grantee, actions, resourceArns: [this.table.tableArn] });
  }

  /** The named actions on one index only. */
  grantIndex(grantee: IGrantable, indexName: string, ...actions: string[]): Grant {
    if (!this.indexNames.has(indexName)) throw new Error(`Table ${this.node.path} has no index ${indexName}`);
    return Grant.addToPrincipal({ grantee, actions, resourceArns: [`${this.table.tableArn}/index/${indexName}`] });
  }
}
