import { CaroteneError } from 'carotene';

/**
 * A contract construct that protobuf cannot carry, or a field number the lock lacks. The
 * message names contract, function and field path:
 * `catalog.getProduct input.items[].qty: z.bigint() has no protobuf mapping`.
 */
export class ProtoMappingError extends CaroteneError<'INVALID_CONFIG'> {
  /** `catalog.getProduct input.items[].qty` */
  readonly where: string;

  constructor(where: string, problem: string) {
    super('INVALID_CONFIG', `${where}: ${problem}`, { details: { where } });
    this.where = where;
  }
}
