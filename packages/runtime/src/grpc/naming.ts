/** Names of the generated protobuf: fixed conventions that code in other languages is written against. */

/** `catalog` → `carotene.catalog.v1`; `order-history` → `carotene.order_history.v1`. */
export function protoPackage(contractName: string): string {
  return `carotene.${contractName.replace(/-/g, '_')}.v1`;
}

/** `catalog` → `Catalog`, `order-history` → `OrderHistory`, `getProduct` → `GetProduct`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** `productId` → `product_id`, `URLPath` → `url_path`, `content-type` → `content_type`; undefined when nothing is left. */
export function snakeCase(key: string): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return /^[a-z][a-z0-9_]*$/.test(snake) ? snake : undefined;
}

/** The json_name protoc gives a field by default: `product_id` → `productId`. */
export function defaultJsonName(fieldName: string): string {
  return fieldName.replace(/_([^_])/g, (_, c: string) => c.toUpperCase()).replace(/_/g, '');
}

/** The type name protoc derives from a field name (as for map entries): `line_items` → `LineItems`. */
export function typeNameOf(fieldName: string): string {
  return fieldName.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/_/g, '');
}

/** `ORDER_PLACED`, `inStock`, `in-stock` → `ORDER_PLACED`, `IN_STOCK`, `IN_STOCK`; undefined when nothing is left. */
export function enumValueName(value: string): string | undefined {
  const upper = value
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return upper.length > 0 ? upper : undefined;
}

/** `Status` → `STATUS`, `LineItemsKind` → `LINE_ITEMS_KIND`: the prefix of an enum's values. */
export function enumPrefix(enumName: string): string {
  return enumName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
