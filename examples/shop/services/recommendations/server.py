"""The shop's recommendations service, in Python: the products to show beside a product.

It implements the `recommendations` contract (contract.ts) from the `.proto` generated from
it, and calls the catalog and orders over gRPC with its own certificate. `carrot dev` starts
it; see docs/grpc.md ("Writing a service in another language").
"""

from __future__ import annotations

import grpc

import carotene_grpc as carotene

SHOWN = 4
PAGES = 20  # at most 20 pages of 100 products are looked through for neighbours in price

member = carotene.Member(["recommendations", "catalog", "orders"])
recommendations = member.stubs("recommendations")
catalog_pb2 = member.stubs("catalog").pb2
orders_pb2 = member.stubs("orders").pb2


class Recommendations(recommendations.grpc.RecommendationsServicer):
    def __init__(self) -> None:
        self.catalog = member.stubs("catalog").grpc.CatalogStub(member.channel("catalog"))
        self.orders = member.stubs("orders").grpc.OrdersStub(member.channel("orders"))

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
        """The products most often in the same confirmed orders, most first; none when orders cannot say."""
        try:
            together = self.orders.BoughtWith(orders_pb2.BoughtWithRequest(product_id=product_id, limit=SHOWN), **member.forward(context)).items
            if not together:
                return []
            found = self.catalog.GetProducts(catalog_pb2.GetProductsRequest(ids=[t.product_id for t in together]), **member.forward(context)).items
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
            carotene.log("warn", "bought-with unavailable, recommending by price alone", status=err.code().name)
            return []
        by_id = {p.id: p for p in found}
        return [by_id[t.product_id] for t in together if t.product_id in by_id]

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
