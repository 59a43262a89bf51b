import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';

const toInt = (value: unknown): unknown => (typeof value === 'boolean' ? Number(value) : value);

class BooleansToIntegers extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === 'boolean' ? { ...node, value: toInt(node.value) } : node;
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return node.values.some((v) => typeof v === 'boolean') ? { ...node, values: node.values.map(toInt) } : node;
  }
}

/**
 * SQLite has no boolean type and cannot bind one: every boolean parameter is sent as 1/0.
 * Given the boolean columns of a table, results read 1/0 in those columns back as booleans.
 */
export class SqliteBooleans implements KyselyPlugin {
  readonly #transformer = new BooleansToIntegers();
  readonly #columns: ReadonlySet<string>;

  constructor(columns: Iterable<string> = []) {
    this.#columns = new Set(columns);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#columns.size === 0) return args.result;
    return { ...args.result, rows: args.result.rows.map((row) => this.#decode(row)) };
  }

  #decode(row: UnknownRow): UnknownRow {
    let out: Record<string, unknown> | undefined;
    for (const column of this.#columns) {
      const value = row[column];
      if (value === 0 || value === 1) (out ??= { ...row })[column] = value === 1;
    }
    return out ?? row;
  }
}
