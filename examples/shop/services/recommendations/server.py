"""The shop's recommendations service, in Python: the products to show beside a product.

It implements the `recommendations` contract (contract.ts) from the `.proto` generated from
it, calls the catalog over gRPC with its own certificate, and keeps its own record of what
is bought together from the orders' OrderConfirmed events, delivered to it over gRPC.
`carrot dev` starts it; see docs/grpc.md ("Writing a service in another language", "Events").
"""

from __future__ import annotations

import grpc

import carotene_grpc as carotene

SHOWN = 4
PAGES = 20  # at most 20 pages of 100 products are looked through for neighbours in price

member = carotene.Member(["recommendations", "catalog"])
recommendations = member.stubs("recommendations")
catalog_pb2 = member.stubs("catalog").pb2

with member.transaction() as db:
    db.execute("CREATE TABLE IF NOT EXISTS bought (order_id TEXT NOT NULL, product_id TEXT NOT NULL, PRIMARY KEY (order_id, product_id))")
    db.execute("CREATE INDEX IF NOT EXISTS bought_by_product ON bought (product_id)")


@member.on("orders.OrderConfirmed")
def order_confirmed(db, event) -> None:
    """Each confirmed order's products, once per product (the same event twice is handled once: carotene_grpc's inbox)."""
    items = event["data"].get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("productId"), str) for i in items):
        raise carotene.InvalidInput("data.items", "must be a list of { productId, qty }")
    for item in items:
        db.execute("INSERT OR IGNORE INTO bought (order_id, product_id) VALUES (?, ?)", (event["data"]["orderId"], item["productId"]))


class Recommendations(recommendations.grpc.RecommendationsServicer):
    def __init__(self) -> None:
        self.catalog = member.stubs("catalog").grpc.CatalogStub(member.channel("catalog"))

    def Recommend(self, request, context):
        if not 1 <= len(request.id) <= 64:
            raise carotene.InvalidInput("input.id", "must be 1 to 64 characters")
        try:
            product = self.catalog.GetProduct(catalog_pb2.GetProductRequest(id=request.id), **member.forward(context))
        except grpc.RpcError as err:
            if member.error_code(err) == "NOT_FOUND":
                raise carotene.Rejection("NOT_FOUND", f"No product '{request.id}'", 404) from err
            raise
        picked = self.bought_with(product.id, context)
        if len(picked) < SHOWN:
            picked += self.nearest_in_price(product, {product.id, *(p.id for p in picked)}, SHOWN - len(picked), context)
        answer = recommendations.pb2.RecommendResponse()
        for p in picked:
            answer.items.add(id=p.id, name=p.name, price=p.price)
        return answer

    def bought_with(self, product_id: str, context) -> list:
        """The products most often in the same confirmed orders, most first (ties by id)."""
        with member.transaction() as db:
            together = [r[0] for r in db.execute(
                "SELECT b.product_id FROM bought a JOIN bought b ON b.order_id = a.order_id AND b.product_id != a.product_id "
                "WHERE a.product_id = ? GROUP BY b.product_id ORDER BY COUNT(*) DESC, b.product_id LIMIT ?",
                (product_id, SHOWN),
            )]
        if not together:
            return []
        found = self.catalog.GetProducts(catalog_pb2.GetProductsRequest(ids=together), **member.forward(context)).items
        by_id = {p.id: p for p in found}
        return [by_id[i] for i in together if i in by_id]

    def nearest_in_price(self, product, exclude: set, count: int, context) -> list:
        candidates = []
        cursor = None
        for _ in range(PAGES):
            page = catalog_pb2.ListProductsRequest(limit=100)
            if cursor:
                page.cursor = cursor
            answer = self.catalog.ListProducts(page, **member.forward(context))
            candidates += [p for p in answer.items if p.id not in exclude]
            if not answer.HasField("next"):
                break
            cursor = answer.next
        candidates.sort(key=lambda p: (abs(p.price - product.price), p.id))
        return candidates[:count]


if __name__ == "__main__":
    member.serve("recommendations", Recommendations())
