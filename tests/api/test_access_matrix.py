"""The access matrix: every route × every role × own/other scope, with the status each must answer.

The routes are the server's own (`nuanxin routes`, the router's table); MATRIX below has one row per
route, and the test fails when the server has a route the matrix does not know (or the matrix one the
server lost), so a new route cannot ship without someone writing down who may call it.

The server is a demo (`nuanxin demo`), plus a second street with a community and its organisation
objects and residents made through the API, so that "other" exists for every community role. Accounts
are the demo's, looked up through GET /api/v1/users by role (the first grid worker by grid), their
passwords set by the administrator through the API — no ID and no password is written here.

Each cell is "own/other": own calls the route on an object in the role's scope (the demo community for
admin, street, staff, canteen and volunteer; the worker's own grid; the resident's own record or
household for resident and family accounts), other on an object outside it (the second community;
another grid of the same community; another resident). "-" means there is no such object (a route
without a path ID has no "other"). Unsafe methods are sent an empty JSON object, so an authorised call
answers 4xx for the missing fields (400, 415, 422) instead of changing data; the status classes
compared are: "ok" for 2xx and 409 (let through, whatever the object's state), and every other 4xx
exactly. Logout is called on a fresh session of the role.

To print the matrix as the server answers it today (for a new route: review the row, then paste it):
    NX_ACCESS_MATRIX_PRINT=1 NUANXIN_BIN=build/nuanxin python3 tests/api/test_access_matrix.py
"""
import http.client
import os
import sys
import traceback
from urllib.parse import quote

from nxtest import BIN, Server, check, done, make_id
from oaschema import server_routes

ROLES = ("admin", "street", "staff", "grid", "canteen", "volunteer", "resident", "family")
PASSWORD = "Matrix2026pass"
PRINT = bool(os.environ.get("NX_ACCESS_MATRIX_PRINT"))

# route -> cells for ROLES in order, each "own/other" (ok: 2xx or 409; else the exact 4xx; "-": no such object)
MATRIX = {
    # route: admin street staff grid canteen volunteer resident family
    "GET /api/v1/alerts": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- ok/-",
    "GET /api/v1/alerts/export": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- ok/-",
    "GET /api/v1/alerts/{id}": "ok/- ok/- ok/- ok/404 403/- 403/- 403/403 ok/404",
    "POST /api/v1/alerts/{id}/acknowledge": "ok/- 403/- ok/- ok/404 403/- 403/- 403/403 403/403",
    "POST /api/v1/alerts/{id}/phones": "ok/- 403/- ok/- ok/404 403/- 403/- 403/403 403/403",
    "POST /api/v1/alerts/{id}/resolve": "ok/- 403/- ok/- ok/404 403/- 403/- 403/403 403/403",
    "GET /api/v1/allowance/coming-of-age": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/allowance/missing": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/allowance/recipients": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/allowance/roster": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/allowance/tiers": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "PUT /api/v1/allowance/tiers": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/audit": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/auth/login": "422/- 422/- 422/- 422/- 422/- 422/- 422/- 422/-",
    "POST /api/v1/auth/logout": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/book-copies": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/book-copies": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/book-copies/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/book-copies/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/books": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/books": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/books/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/books/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/briefings": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/briefings": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/briefings/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/briefings/{id}/attendance": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/briefings/{id}/attendance.xlsx": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/briefings/{id}/signups": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/briefings/{id}/signups": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/briefings/{id}/withdraw": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/briefings/{id}/cancel": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/briefings/{id}": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/buildings": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/buildings": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/buildings/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/buildings/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/buildings/{id}/rooms": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "POST /api/v1/buildings/{id}/rooms": "422/422 403/403 422/422 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/canteen/cards/{id}/card.pdf": "ok/- 403/- ok/- 403/- ok/- 403/- ok/404 ok/404",
    "GET /api/v1/canteen/cards/{id}/qr.svg": "ok/- 403/- ok/- 403/- ok/- 403/- ok/404 ok/404",
    "POST /api/v1/canteen/cards/{id}/refunds": "422/- 403/- 422/- 403/- 422/- 403/- 403/403 403/403",
    "POST /api/v1/canteen/cards/{id}/replace": "ok/- 403/- ok/- 403/- ok/- 403/- 403/403 403/403",
    "POST /api/v1/canteen/cards/{id}/top-ups": "422/- 403/- 422/- 403/- 422/- 403/- 422/422 422/422",
    "GET /api/v1/canteen/cards/{id}/transactions": "ok/- 403/- ok/- 403/- ok/- 403/- ok/404 ok/404",
    "GET /api/v1/canteen/cards/{id}": "ok/- 403/- ok/- 403/- ok/- 403/- ok/404 ok/404",
    "GET /api/v1/canteen/cards": "ok/- 403/- ok/- 403/- ok/- 403/- ok/- ok/-",
    "POST /api/v1/canteen/cards": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/diners": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/dishes/{id}": "ok/- 403/- ok/- 403/- ok/- 403/- -/- -/-",
    "PATCH /api/v1/canteen/dishes/{id}": "ok/- 403/- ok/- 403/- ok/- 403/- -/- -/-",
    "GET /api/v1/canteen/dishes": "ok/- 403/- ok/- 403/- ok/- 403/- ok/- ok/-",
    "POST /api/v1/canteen/dishes": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "PATCH /api/v1/canteen/menu-items/{id}": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/canteen/menus/{id}": "ok/- 403/- ok/- 403/- ok/- 403/- -/- -/-",
    "GET /api/v1/canteen/menus": "ok/- 403/- ok/- 403/- ok/- 403/- ok/- ok/-",
    "POST /api/v1/canteen/menus": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/price-quote": "422/- 422/- 422/- 422/- 422/- 422/- 422/- 422/-",
    "GET /api/v1/canteen/price-rules": "ok/- 403/- ok/- 403/- ok/- 403/- 403/- 403/-",
    "PUT /api/v1/canteen/price-rules": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/reports/daily": "ok/- 403/- ok/- 403/- ok/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/reports/subsidy": "ok/- 403/- ok/- 403/- ok/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/sales/verify": "422/- 403/- ok/- 403/- ok/- 403/- 403/- 403/-",
    "POST /api/v1/canteen/sales/{id}/reverse": "422/- 403/- 422/- 403/- 422/- 403/- -/403 -/403",
    "GET /api/v1/canteen/sales/{id}": "ok/- 403/- ok/- 403/- ok/- 403/- -/404 -/404",
    "GET /api/v1/canteen/sales": "ok/- 403/- ok/- 403/- ok/- 403/- ok/- ok/-",
    "POST /api/v1/canteen/sales": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "GET /api/v1/canteen/deliveries": "ok/- 403/- ok/- ok/- ok/- ok/- 403/- 403/-",
    "GET /api/v1/canteen/delivery-rounds": "ok/- 403/- ok/- ok/- ok/- ok/- 403/- 403/-",
    "POST /api/v1/canteen/delivery-rounds": "422/- 403/- 422/- 403/- 422/- 403/- 403/- 403/-",
    "DELETE /api/v1/canteen/delivery-rounds/{id}": "ok/- 403/- 404/- 403/403 404/- 403/- -/- -/-",
    "GET /api/v1/canteen/orders": "ok/- 403/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "POST /api/v1/canteen/orders": "422/- 403/- 422/- 403/- 422/- 403/- 422/- 422/-",
    "GET /api/v1/canteen/orders/{id}": "ok/- 403/- ok/- ok/404 ok/- ok/- ok/404 ok/404",
    "PATCH /api/v1/canteen/orders/{id}": "422/- 422/- 422/- 422/422 422/- 422/- 422/422 422/422",
    "POST /api/v1/canteen/orders/{id}/rating": "422/- 422/- 422/- 422/422 422/- 422/- 422/422 422/422",
    "GET /api/v1/canteen/stats": "ok/- 403/- ok/- 403/- ok/- 403/- 403/- 403/-",
    "GET /api/v1/care-files": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/care-files": "422/- 403/- 422/- 422/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/care-files/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "PATCH /api/v1/care-files/{id}": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "POST /api/v1/care-files/{id}/close": "422/422 403/403 422/422 422/422 403/403 403/403 403/403 403/403",
    "POST /api/v1/care-files/{id}/events": "422/422 403/403 422/422 422/422 403/403 403/403 403/403 403/403",
    "POST /api/v1/care-files/{id}/tasks": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "GET /api/v1/care/policies": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/care/policies": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/care/policies/{id}": "ok/- ok/- ok/- -/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/care/policies/{id}": "ok/- 403/- 403/- -/- 403/- 403/- -/- -/-",
    "GET /api/v1/care/vocab": "ok/- ok/- ok/- ok/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/care/vocab": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/care/vocab/{id}": "ok/- ok/- ok/- -/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/care/vocab/{id}": "ok/- 403/- 403/- -/- 403/- 403/- -/- -/-",
    "GET /api/v1/communities": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/communities": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/communities/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/communities/{id}": "ok/ok 403/403 403/403 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/devices": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- ok/-",
    "POST /api/v1/devices": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/devices/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "PATCH /api/v1/devices/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 403/403 403/403",
    "GET /api/v1/devices/{id}/commands": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "POST /api/v1/devices/{id}/commands": "ok/ok 403/403 ok/404 403/403 403/403 403/403 403/403 403/403",
    "POST /api/v1/devices/{id}/commands/{cid}/cancel": "ok/ok 403/403 ok/404 403/- 403/403 403/403 403/- 403/-",
    "POST /api/v1/devices/{id}/confirm-identity": "ok/ok 403/403 ok/404 403/403 403/403 403/403 403/403 403/403",
    "GET /api/v1/devices/{id}/positions": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "GET /api/v1/devices/{id}/readings": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "GET /api/v1/devices/{id}/steps": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "GET /api/v1/elections": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/elections": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/elections/honours": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "GET /api/v1/elections/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/elections/{id}/ballots": "403/- 403/- 403/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/elections/{id}/nominations": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/elections/{id}/nominations/{nid}/certificate.pdf": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "POST /api/v1/elections/{id}/nominations/{nid}/review": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "POST /api/v1/elections/{id}/objections": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/elections/{id}/objections/{oid}/answer": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/elections/{id}/result": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/elections/{id}/stage": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/estates": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/estates": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/estates/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/estates/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/events/stream": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- ok/-",
    "GET /api/v1/grid-members": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/grid-members": "422/- 403/- 422/- 422/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/grid-members/{id}": "ok/- ok/- ok/- ok/404 403/- 403/- -/- -/-",
    "PATCH /api/v1/grid-members/{id}": "ok/- 403/- ok/- ok/404 403/- 403/- -/- -/-",
    "GET /api/v1/grids": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/grids": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/grids/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/grids/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/holds": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/holds": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/holds/{id}": "ok/- 403/- ok/- -/403 403/- 403/- -/404 -/404",
    "POST /api/v1/holds/{id}/cancel": "ok/- 403/- ok/- -/403 403/- 403/- -/404 -/404",
    "GET /api/v1/households": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/households": "422/- 403/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/households/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 ok/404 ok/404",
    "PATCH /api/v1/households/{id}": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "GET /api/v1/incidents": "ok/- ok/- ok/- ok/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/incidents": "422/- 403/- 422/- 422/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/incidents/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "POST /api/v1/incidents/{id}/close": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 -/- -/-",
    "POST /api/v1/incidents/{id}/dispatch": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 -/- -/-",
    "POST /api/v1/incidents/{id}/handle": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 -/- -/-",
    "POST /api/v1/incidents/{id}/photos": "415/415 403/403 415/415 415/415 403/403 403/403 -/- -/-",
    "GET /api/v1/library/categories": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/library/categories": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/library/categories/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/library/categories/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/library/donations": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/library/donations": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/library/donations/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/library/labels": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/library/readers/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 ok/404 ok/404",
    "PATCH /api/v1/library/readers/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 403/403 403/403",
    "GET /api/v1/library/stats": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/loans": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/loans": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/loans/{id}": "ok/- 403/- ok/- 403/403 403/- 403/- ok/404 ok/404",
    "POST /api/v1/loans/{id}/renew": "ok/- 403/- ok/- 403/403 403/- 403/- ok/404 ok/404",
    "POST /api/v1/loans/{id}/return": "ok/- 403/- ok/- 403/403 403/- 403/- 403/403 403/403",
    "GET /api/v1/me": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "POST /api/v1/me/password": "422/- 422/- 422/- 422/- 422/- 422/- 422/- 422/-",
    "PATCH /api/v1/me/preferences": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/message-costs": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/message-deliveries": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/message-preferences": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "PUT /api/v1/message-preferences": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/message-rules": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "PUT /api/v1/message-rules": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/notice-attachments/{id}": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/notices": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/notices": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/notices/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/notices/{id}/attachments": "415/- 403/- 415/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/notices/{id}/notice.pdf": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/notices/{id}/receipts": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/notifications": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "POST /api/v1/notifications/read-all": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/notifications/unread-count": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/notifications/stream": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "POST /api/v1/message-callbacks/tencent-voice": "404/- 404/- 404/- 404/- 404/- 404/- 404/- 404/-",
    "POST /api/v1/notifications/{id}/read": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/openapi.json": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/partner-bookings": "ok/- 403/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "PATCH /api/v1/partner-bookings/{id}": "422/- 403/- 422/- 422/- 403/- 422/- 422/422 422/422",
    "GET /api/v1/partner-services": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/partner-services": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/partner-services/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/partner-sessions": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "GET /api/v1/partner-sessions/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/- -/-",
    "POST /api/v1/partner-sessions/{id}/bookings": "422/- 403/- 422/- 422/- 403/- 422/- -/- -/-",
    "GET /api/v1/partners": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/partners": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/partners/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/partners/{id}/thanks-letter": "ok/- ok/- ok/- 403/- 403/- 403/- -/- -/-",
    # a party member's {id} as "other" for the resident: the demo's resident leads 银领先锋党支部 (its secretary is data)
    "GET /api/v1/party-activities": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/party-activities": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/party-activities/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/party-activities/{id}/attendance": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/party-activities/{id}/minutes": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/party-activities/{id}/photos": "415/- 403/- 415/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/party-activities/{id}/review": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/party-calendar": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/party-dues": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "GET /api/v1/party-dues-rules": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/party-dues-rules": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/party-dues/arrears": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/party-dues/cycles": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/party-dues/statement": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/party-dues/statement.xlsx": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/party-dues/{id}": "ok/- 403/- ok/- -/- 403/- 403/- -/- -/-",
    "POST /api/v1/party-dues/{id}/payments": "422/- 403/- 422/- -/- 403/- 403/- -/- -/-",
    "GET /api/v1/party-photos/{id}": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/party-members": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/party-members": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/party-members/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- ok/ok 403/403",
    "PATCH /api/v1/party-members/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- ok/ok 403/403",
    "POST /api/v1/party-members/{id}/transfers": "422/- 403/- 422/- 403/- 403/- 403/- 422/422 403/403",
    "GET /api/v1/party-orgs": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- 403/-",
    "POST /api/v1/party-orgs": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/party-orgs/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/party-orgs/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/photos/{id}": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/problems": "ok/- ok/- ok/- ok/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/problems": "422/- 403/- 422/- 422/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/problems/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 ok/404 ok/404",
    "PATCH /api/v1/problems/{id}": "400/400 403/403 400/400 400/400 403/403 403/403 403/403 403/403",
    "POST /api/v1/problems/{id}/notes": "422/422 403/403 422/422 422/422 403/403 403/403 403/403 403/403",
    "POST /api/v1/problems/{id}/rate": "422/422 403/403 422/422 422/422 403/403 403/403 422/422 422/422",
    "POST /api/v1/problems/{id}/resolve": "422/422 403/403 422/422 422/422 403/403 403/403 403/403 403/403",
    "GET /api/v1/residents": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/residents": "422/- 403/- 422/- 422/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/residents/export": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/residents/import": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/residents/import/template": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /api/v1/residents/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 ok/404 ok/404",
    "PATCH /api/v1/residents/{id}": "ok/ok 403/403 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "GET /api/v1/residents/{id}/alert-rules": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "GET /api/v1/residents/{id}/family-view": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 ok/404",
    "PUT /api/v1/residents/{id}/alert-rules": "ok/ok 403/403 ok/404 403/403 403/403 403/403 403/403 403/403",
    "POST /api/v1/residents/{id}/move": "422/422 403/403 422/422 422/422 403/403 403/403 403/403 403/403",
    "GET /api/v1/residents/{id}/moves": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "POST /api/v1/residents/{id}/reveal": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 403/403 403/403",
    "POST /api/v1/returns": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/roles": "ok/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/rooms/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/rooms/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/service-applications": "ok/- ok/- ok/- ok/- 403/- 403/- ok/- ok/-",
    # the first item is 高龄津贴 and the demo's 王建国 is 75: his own draft is refused before it exists (issue 19)
    "POST /api/v1/service-applications": "422/- 403/- 422/- 422/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/service-applications/{id}": "ok/- ok/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "PATCH /api/v1/service-applications/{id}": "ok/- 403/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "GET /api/v1/service-applications/{id}/documents/{kind}": "ok/- ok/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/service-applications/{id}/materials": "422/- 403/- 422/- 422/- 403/- 403/- 422/422 422/422",
    "DELETE /api/v1/service-applications/{id}/materials/{mid}": "ok/- 403/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "GET /api/v1/service-applications/{id}/materials/{mid}": "ok/- ok/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/service-applications/{id}/review": "ok/- ok/- ok/- 403/- 403/- 403/- 403/403 403/403",
    "POST /api/v1/service-applications/{id}/submit": "ok/- 403/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/service-applications/{id}/withdraw": "ok/- 403/- ok/- 404/- 403/- 403/- ok/404 ok/404",
    "GET /api/v1/service-items": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "POST /api/v1/service-items": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/service-items/{id}": "ok/- ok/- ok/- -/- ok/- ok/- -/- -/-",
    "GET /api/v1/service-items/{id}/eligibility": "422/- 403/- 422/- -/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/service-items/{id}": "ok/- 403/- 403/- -/- 403/- 403/- -/- -/-",
    "POST /api/v1/services/sweep": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/shops": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/shops": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/shops/{id}": "ok/ok ok/404 ok/404 ok/404 403/403 403/403 -/- -/-",
    "PATCH /api/v1/shops/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/stats/care": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/stats/devices": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- ok/-",
    "GET /api/v1/stats/overview": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/system/health": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/stats/services": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/streets": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/streets": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/streets/{id}": "ok/ok ok/404 ok/404 -/- 403/403 403/403 -/- -/-",
    "PATCH /api/v1/streets/{id}": "ok/ok 403/403 403/403 -/- 403/403 403/403 -/- -/-",
    "GET /api/v1/tags": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/tags": "422/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "PATCH /api/v1/tags/{id}": "ok/- 403/- 403/- -/- 403/- 403/- -/- -/-",
    "GET /api/v1/users": "ok/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/users": "ok/- 403/- 403/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/users/{id}": "ok/- 404/- 404/- 404/404 404/- 404/- -/- -/-",
    "PATCH /api/v1/users/{id}": "ok/- 403/- 403/- 403/403 403/- 403/- -/- -/-",
    "POST /api/v1/users/{id}/password": "ok/- 404/- 404/- 404/404 404/- 404/- -/- -/-",
    "GET /api/v1/visit-tasks": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/visit-tasks/{id}": "ok/ok ok/404 ok/404 -/404 403/403 403/403 -/403 -/403",
    "PATCH /api/v1/visit-tasks/{id}": "ok/ok 403/403 ok/404 -/404 403/403 403/403 -/403 -/403",
    "GET /api/v1/visits": "ok/- ok/- ok/- ok/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/visits": "422/- 403/- 422/- 422/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/visits/register": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/visits/{id}": "ok/- ok/- ok/- -/404 403/- 403/- -/403 -/403",
    "POST /api/v1/visits/{id}/photos": "415/- 403/- 415/- -/415 403/- 403/- -/403 -/403",
    "GET /api/v1/volunteer-activities": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/volunteer-activities": "422/- 403/- 422/- 422/- 403/- 422/- 403/- 403/-",
    "GET /api/v1/volunteer-activities/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/volunteer-activities/{id}/check-in-code": "ok/- 403/- ok/- 403/- 403/- ok/- -/- -/-",
    "POST /api/v1/volunteer-activities/{id}/check-ins": "422/- 403/- 422/- 422/- 403/- 422/- -/- -/-",
    "POST /api/v1/volunteer-activities/{id}/signups": "ok/- 403/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/volunteer-hours": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/volunteer-hours": "422/- 403/- 422/- 422/- 403/- 422/- 403/- 403/-",
    "GET /api/v1/volunteer-hours/export": "ok/- ok/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/volunteer-hours/honour": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "GET /api/v1/volunteer-hours/summary": "404/- 404/- 404/- 404/- 403/- ok/- 404/- 404/-",
    "GET /api/v1/volunteer-hours/{id}": "ok/- ok/- ok/- 404/- 403/- 404/- -/- -/-",
    "POST /api/v1/volunteer-hours/{id}/approve": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/volunteer-point-offers": "ok/- 403/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/volunteer-point-offers": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/volunteer-point-offers/{id}": "ok/- 403/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/volunteer-points": "404/- 403/- 404/- 404/- 403/- ok/- 404/- 404/-",
    "POST /api/v1/volunteer-points/redemptions": "422/- 403/- 422/- 422/- 403/- 422/- 422/- 422/-",
    "GET /api/v1/volunteer-points/rule": "422/- 403/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "PUT /api/v1/volunteer-points/rule": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/volunteer-signups/{id}/cancel": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/volunteer-teams": "ok/- ok/- ok/- ok/- 403/- ok/- ok/- ok/-",
    "POST /api/v1/volunteer-teams": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/volunteer-teams/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/- -/-",
    "GET /api/v1/volunteers": "ok/- ok/- ok/- ok/- 403/- ok/- 403/- 403/-",
    "POST /api/v1/volunteers": "422/- 403/- 422/- 422/- 403/- 422/- 403/- 403/-",
    "GET /api/v1/volunteers/{id}": "ok/- ok/- ok/- ok/- 403/- ok/- -/404 -/404",
    "GET /api/v1/webhooks": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "POST /api/v1/webhooks": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "DELETE /api/v1/webhooks/{id}": "ok/ok 403/403 404/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/webhooks/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "PATCH /api/v1/webhooks/{id}": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /api/v1/webhooks/{id}/deliveries": "ok/ok 403/403 ok/404 403/403 403/403 403/403 -/- -/-",
    "GET /drift/{code}": "404/404 404/404 404/404 404/404 404/404 404/404 404/404 404/404",
    "GET /healthz": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /readyz": "ok/- ok/- ok/- ok/- ok/- ok/- ok/- ok/-",
    "GET /verify/{code}": "404/404 404/404 404/404 404/404 404/404 404/404 404/404 404/404",
    # courses (issue 14)
    "POST /api/v1/course-enrolments/{id}/withdraw": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/course-sessions/{id}/attendance": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "POST /api/v1/course-sessions/{id}/attendance": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "POST /api/v1/course-sessions/{id}/leave": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/courses": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/courses": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/courses/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/approve": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/cancel": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/courses/{id}/enrolments": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/enrolments": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/feedback": "403/- 403/- 403/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/lottery": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/courses/{id}/reject": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    # venues (issue 14)
    "GET /api/v1/venue-bookings": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/venue-bookings": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 422/-",
    "GET /api/v1/venue-bookings/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/venue-bookings/{id}/approve": "ok/- 403/- ok/- 403/- 403/- 403/- 403/404 403/404",
    "POST /api/v1/venue-bookings/{id}/cancel": "ok/- 403/- ok/- 403/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/venue-bookings/{id}/check-in": "ok/- 403/- ok/- 403/- 403/- 403/- ok/404 ok/404",
    "POST /api/v1/venue-bookings/{id}/no-show": "ok/- 403/- ok/- 403/- 403/- 403/- 403/404 403/404",
    "POST /api/v1/venue-bookings/{id}/reject": "ok/- 403/- ok/- 403/- 403/- 403/- 403/404 403/404",
    "GET /api/v1/venue-waits": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/venue-waits": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 422/-",
    "POST /api/v1/venue-waits/{id}/accept": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/venues": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/venues": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/venues/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "PATCH /api/v1/venues/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/venues/{id}/calendar": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/venues/{id}/calendar.ics": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/venues/{id}/closures": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    # the courtyard council (issue 15)
    "GET /api/v1/council-meetings": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/council-meetings": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/council-meetings/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/council-meetings/{id}/qr": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/council-meetings/{id}/attendance": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/council-meetings/{id}/minutes": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/council-members": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/council-members": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "PATCH /api/v1/council-members/{id}": "422/- 403/- 422/- -/- 403/- 403/- -/403 -/403",
    "GET /api/v1/council-photos/{id}": "-/- -/- -/- -/- -/- -/- -/- -/-",
    "GET /api/v1/council-templates": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/council-templates": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/council/stats": "ok/- 403/- ok/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/decisions": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/decisions": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/decisions/{id}": "ok/- 403/- ok/- 403/403 403/- 403/- -/- -/-",
    "POST /api/v1/decisions/{id}/photos": "415/- 403/- 415/- 403/403 403/- 403/- -/- -/-",
    "POST /api/v1/decisions/{id}/problem": "422/- 403/- 422/- 403/403 403/- 403/- -/- -/-",
    "POST /api/v1/decisions/{id}/progress": "422/- 403/- 422/- 403/403 403/- 403/- -/- -/-",
    "POST /api/v1/decisions/{id}/ratings": "403/- 403/- 403/- 403/403 403/- 403/- -/- -/-",
    "GET /api/v1/polls": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/polls": "422/- 403/- 422/- 403/- 403/- 403/- 403/- 403/-",
    "GET /api/v1/polls/{id}": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/polls/{id}/ballots": "422/- 403/- 422/- 403/- 403/- 403/- -/- -/-",
    "POST /api/v1/polls/{id}/close": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/polls/{id}/result": "ok/- 403/- ok/- 403/- 403/- 403/- -/- -/-",
    "GET /api/v1/topics": "ok/- 403/- ok/- 403/- 403/- 403/- ok/- ok/-",
    "POST /api/v1/topics": "422/- 403/- 422/- 403/- 403/- 403/- 422/- 403/-",
    "GET /api/v1/topics/{id}": "ok/- 403/- ok/- 403/403 403/- 403/- -/ok -/ok",
    "POST /api/v1/topics/{id}/advance": "ok/- 403/- ok/- 403/403 403/- 403/- -/403 -/403",
    "POST /api/v1/topics/{id}/merge": "422/- 403/- 422/- 403/403 403/- 403/- -/403 -/403",
    "POST /api/v1/topics/{id}/supports": "403/- 403/- 403/- 403/403 403/- 403/- -/ok -/403",
}

S = None
admin = None
sessions = {}
who = {}       # role -> the user record
ctx = {}
item_cache = {}


def status_class(st):
    """ok: the call was let through — 2xx, or 409 (the object's state refuses the action, e.g. an
    incident the demo closed already): the matrix is about who may act, not about the demo's states."""
    return "ok" if 200 <= st < 300 or st == 409 else str(st)


def items(coll):
    """Items (dicts) a GET of coll lists for the administrator: the first page and the second
    community's, [] when coll is not a list."""
    if coll in item_cache:
        return item_cache[coll]
    out = []
    if coll == "/api/v1/rooms":
        # no list of its own: the rooms of one building in each community
        for b in (pick("/api/v1/buildings", "staff", True), ctx.get("b2")):
            st, _, body = admin.get(f"/api/v1/buildings/{b}/rooms?limit=5")
            lst = body.get("items") if isinstance(body, dict) else body
            out += [dict(x, community_id=ctx["c1"] if b != ctx.get("b2") else ctx["c2"]) for x in lst or []
                    if isinstance(x, dict)]
        item_cache[coll] = out
        return out
    if coll == "/api/v1/library/readers":  # no list of its own: a library reader's id is the resident's
        out = [dict(x, resident_id=x["id"]) for x in items("/api/v1/residents")]
        item_cache[coll] = out
        return out
    for q in ("?limit=200", f"?limit=200&community_id={ctx['c2']}"):
        st, _, body = admin.get(coll + q)
        if st == 200:
            lst = body.get("items") if isinstance(body, dict) else body
            if isinstance(lst, list):
                out += [x for x in lst if isinstance(x, dict) and isinstance(x.get("id"), int)]
    if not out and "/" in coll.strip("/"):
        # a list inside the parent's detail (/service-applications/{id}/materials)
        parent, _, name = coll.rpartition("/")
        st, _, body = admin.get(parent)
        if st == 200 and isinstance(body, dict) and isinstance(body.get(name), list):
            out = [x for x in body[name] if isinstance(x, dict) and isinstance(x.get("id"), int)]
    if coll == "/api/v1/users":  # never an account the run logs in with (a password set ends its sessions)
        mine = {u["id"] for u in who.values()}
        out = [x for x in out if x["id"] not in mine]
    item_cache[coll] = out
    return out


def facts(coll, it):
    """(street, community, grid, resident, household) an item belongs to, None where unknown."""
    last = coll.rstrip("/").rsplit("/", 1)[-1]
    own_id = it.get("id")
    return (it.get("street_id") if last != "streets" else own_id,
            it.get("community_id") if last != "communities" else own_id,
            it.get("grid_id") if last != "grids" else own_id,
            it.get("resident_id") if last != "residents" else own_id,
            it.get("household_id") if last != "households" else own_id)


def is_own(role, f):
    street, comm, grid, res, hh = f
    if role == "grid":
        return grid == ctx["g1"] if grid is not None else comm == ctx["c1"]
    if role in ("resident", "family"):
        return res == ctx["r1"] if res is not None else (hh is not None and hh == ctx["h1"])
    if comm is not None:
        return comm == ctx["c1"]
    if street is not None:
        return street == ctx["s1"]
    return True


def is_other(role, f):
    street, comm, grid, res, hh = f
    if role == "grid":
        return (grid is not None and grid != ctx["g1"] and comm in (None, ctx["c1"])) or (comm is not None and comm != ctx["c1"])
    if role in ("resident", "family"):
        return (res is not None and res != ctx["r1"]) or (hh is not None and hh != ctx["h1"] and res is None)
    if comm is not None:
        return comm == ctx["c2"]
    if street is not None:
        return street == ctx["s2"]
    return False


def pick(coll, role, own):
    for it in items(coll):
        f = facts(coll, it)
        if role in ("resident", "family") and coll.rstrip("/").rsplit("/", 1)[-1] == "residents":
            # the reduced self view: the one record the account is bound to is its own; another
            # member of the household is "other" (read only through the household's member list)
            mine = it["id"] == ctx["self_" + role]
            if mine == own:
                return it["id"]
            continue
        if (is_own(role, f) if own else is_other(role, f)):
            return it["id"]
    return None


def fill(pattern, role, own):
    """The path for pattern with its parameters chosen for role, or None when there is no object."""
    parts = pattern.split("/")
    out = []
    for i, seg in enumerate(parts):
        if not seg.startswith("{"):
            out.append(seg)
            continue
        coll = "/".join(out)
        if seg == "{kind}":
            out.append("application")
            continue
        if seg == "{code}":
            out.append("NOSUCHCODE")
            continue
        # the first parameter decides own/other; later ones are children of it
        v = pick(coll, role, own) if i == pattern.split("/").index(next(s for s in parts if s.startswith("{"))) \
            else (items(coll)[0]["id"] if items(coll) else None)
        if v is None:
            return None
        out.append(str(v))
    return "/".join(out)


# Routes that check the body before the right: an empty body would answer 422 to every role, so they
# get one that passes validation (made fresh per call; n numbers it).
BODIES = {
    "POST /api/v1/alerts/{id}/resolve": lambda n: {"note": "矩阵测试"},
    "POST /api/v1/devices": lambda n: {"imei": f"8699{n:011d}", "protocol": "watch"},
    "POST /api/v1/devices/{id}/commands": lambda n: {"kind": "locate"},
    "POST /api/v1/incidents/{id}/dispatch": lambda n: {"assignee_user_id": who["grid"]["id"]},
    "POST /api/v1/incidents/{id}/handle": lambda n: {"result": "已处理"},
    "POST /api/v1/residents/{id}/reveal": lambda n: {"fields": ["id_number"]},
    "POST /api/v1/service-applications": lambda n: {"item_id": items("/api/v1/service-items")[0]["id"]},
    "PATCH /api/v1/service-applications/{id}": lambda n: {"form": {}},
    "POST /api/v1/service-applications/{id}/review": lambda n: {"action": "return", "note": "请补正"},
    "POST /api/v1/users": lambda n: {"username": f"matrix{n}", "password": PASSWORD, "role": "volunteer",
                                     "community_id": ctx["c1"]},
    "POST /api/v1/users/{id}/password": lambda n: {"password": PASSWORD, "must_change_password": False},
}
QUERIES = {"GET /api/v1/allowance/roster": "?month=2026-01", "GET /api/v1/volunteer-hours/honour": "?period=2026-01",
           "GET /api/v1/partners/{id}/thanks-letter": "?year=2024"}
seq = [0]


def call(role, method, path, pattern=""):
    c = sessions[role]
    if method == "POST" and path == "/api/v1/auth/logout":
        c = S.login(who[role]["username"], S.admin_password if role == "admin" else PASSWORD)
    if method == "GET" and path.endswith("/stream"):
        # an event stream: the status line is the answer; its body never ends
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30)
        conn.request("GET", path, headers={"Authorization": "Bearer " + c.token})
        st = conn.getresponse().status
        conn.close()
        return status_class(st)
    body = {} if method not in ("GET", "HEAD", "DELETE") else None
    key = f"{method} {pattern}"
    if key in BODIES:
        seq[0] += 1
        body = BODIES[key](seq[0])
    path += QUERIES.get(key, "")
    st, _, _ = c.request(method, path, body=body)
    return status_class(st)


def setup():
    global admin
    admin = S.login()
    st, _, users = admin.get("/api/v1/users?limit=200")
    users = users.get("items", users) if isinstance(users, dict) else users
    by_role = {}
    for u in sorted(users, key=lambda u: (u.get("grid_id") or 0, u["id"])):
        by_role.setdefault(u["role"], u)
    for role in ROLES:
        u = by_role.get(role)
        if not check(u is not None, f"a demo account with role {role}"):
            continue
        who[role] = u
        if role == "admin":
            sessions[role] = admin
            continue
        st, _, body = admin.post(f"/api/v1/users/{u['id']}/password", {"password": PASSWORD, "must_change_password": False})
        check(st == 204, f"password of {role} set: {st} {body}")
        sessions[role] = S.login(u["username"], PASSWORD)
    staff = who["staff"]
    ctx["c1"], ctx["s1"] = staff["community_id"], staff.get("street_id")
    if ctx["s1"] is None:
        st, _, comm = admin.get(f"/api/v1/communities/{ctx['c1']}")
        ctx["s1"] = comm.get("street_id")
    ctx["g1"] = who["grid"]["grid_id"]
    ctx["r1"] = who["resident"]["resident_id"]
    ctx["self_resident"], ctx["self_family"] = who["resident"]["resident_id"], who["family"]["resident_id"]
    st, _, res = admin.get(f"/api/v1/residents/{ctx['r1']}")
    ctx["h1"] = res.get("household_id")
    # the other street and community, with an object of each kind that can be made through the API
    st, _, s2 = admin.post("/api/v1/streets", {"name": "矩阵街道"})
    st, _, c2 = admin.post("/api/v1/communities", {"street_id": s2["id"], "name": "矩阵社区"})
    ctx["s2"], ctx["c2"] = s2["id"], c2["id"]
    st, _, g2 = admin.post("/api/v1/grids", {"community_id": c2["id"], "name": "矩阵网格"})
    st, _, est = admin.post("/api/v1/estates", {"community_id": c2["id"], "name": "矩阵小区", "kind": "old"})
    st, _, bld = admin.post("/api/v1/buildings", {"estate_id": est["id"], "grid_id": g2["id"], "name": "1号楼", "floors": 6})
    st, _, room = admin.post(f"/api/v1/buildings/{bld['id']}/rooms", {"unit": "1单元", "number": "101", "floor": 1})
    admin.post("/api/v1/shops", {"community_id": c2["id"], "name": "矩阵商店", "kind": "market_stall"})
    st, _, hh = admin.post("/api/v1/households", {"room_id": room["id"], "number": "M001", "kind": "registered"})
    st, _, r2 = admin.post("/api/v1/residents", {"name": "矩阵居民", "id_number": make_id("110105", "19400101", 77),
                                                 "room_id": room["id"], "household_id": hh.get("id")})
    check(st == 201, f"a resident in the other community: {st} {r2}")
    ctx["b2"], ctx["r2"] = bld["id"], r2.get("id")
    # objects of the other community's resident, copying codes from the demo's own
    first = {coll: (items(coll) or [{}])[0] for coll in ("/api/v1/care-files", "/api/v1/problems", "/api/v1/incidents")}
    made = [
        admin.post("/api/v1/care-files", {"resident_id": r2.get("id"), "category": first["/api/v1/care-files"].get("category"),
                                           "level": first["/api/v1/care-files"].get("level")}),
        admin.post("/api/v1/devices", {"imei": "869900000000001", "protocol": "watch", "resident_id": r2.get("id")}),
        admin.post("/api/v1/problems", {"resident_id": r2.get("id"), "category": first["/api/v1/problems"].get("category"),
                                        "title": "矩阵问题"}),
        admin.post("/api/v1/incidents", {"category": first["/api/v1/incidents"].get("category"), "title": "矩阵事件",
                                         "place": "1号楼", "grid_id": g2["id"]}),
        admin.post("/api/v1/webhooks", {"community_id": ctx["c1"], "name": "本社区", "format": "json",
                                        "url": "https://93.184.216.34/hook"}),
        admin.post("/api/v1/webhooks", {"community_id": c2["id"], "name": "矩阵社区", "format": "json",
                                        "url": "https://93.184.216.34/hook"}),
    ]
    for st, _, body in made:
        check(st == 201, f"an object of the other community: {st} {body}")
    item_cache.clear()
    # a queued command on a device of each community (for the cancel route)
    for own in (True, False):
        dev = pick("/api/v1/devices", "staff", own)
        st, _, body = admin.post(f"/api/v1/devices/{dev}/commands", {"kind": "locate"})
        check(200 <= st < 300, f"a command queued: {st} {body}")
    item_cache.clear()


def unknown(routes, matrix):
    """(routes the matrix lacks, rows of the matrix the server does not route)."""
    keys = {f"{m} {p}" for (m, p) in routes}
    return sorted(keys - set(matrix)), sorted(set(matrix) - keys)


def test_matrix():
    routes = server_routes(BIN)
    lacking, stale = unknown(routes, MATRIX)
    for k in lacking:
        check(PRINT, f"route {k} is not in the access matrix: write its row (NX_ACCESS_MATRIX_PRINT=1 prints it)")
    for k in stale:
        check(False, f"the access matrix has {k}, which the server no longer routes")
    # the check can fail: a route the matrix does not know is found
    fewer = dict(MATRIX)
    fewer.pop("GET /api/v1/residents/{id}", None)
    check(unknown(routes, fewer)[0] == ["GET /api/v1/residents/{id}"], "a route missing from the matrix is found")
    check(len(routes) >= 150 and all(len(v.split()) == len(ROLES) for v in MATRIX.values()), "matrix rows complete")
    # every object is chosen before any call changes the lists (a POST adds to the top of a list)
    for method, pattern in routes:
        if "{" in pattern:
            coll = pattern[:pattern.index("{")].rstrip("/")
            items(coll)
            for role in ROLES:
                for own in (True, False):
                    fill(pattern, role, own)
    order = sorted(routes, key=lambda x: (x == ("POST", "/api/v1/auth/logout"), x[0] == "DELETE", x[1], x[0]))
    got_rows = {}
    for method, pattern in order:
        cells = []
        for role in ROLES:
            pair = []
            for own in (True, False):
                if "{" not in pattern and not own:
                    pair.append("-")
                    continue
                path = fill(pattern, role, own) if "{" in pattern else pattern
                pair.append("-" if path is None else call(role, method, path, pattern))
            cells.append("/".join(pair))
        key = f"{method} {pattern}"
        got_rows[key] = " ".join(cells)
        if key in MATRIX and not PRINT:
            want = MATRIX[key].split()
            for role, w, g in zip(ROLES, want, cells):
                check(w == g, f"{key} as {role} (own/other): got {g}, want {w}")
    if PRINT:
        print("MATRIX = {")
        print("    # route: " + " ".join(f"{r}" for r in ROLES))
        for k in sorted(got_rows, key=lambda k: (k.split()[1], k.split()[0])):
            print(f'    "{k}": "{got_rows[k]}",')
        print("}")
    check(len(got_rows) >= 150, f"routes tried ({len(got_rows)})")


def main():
    global S
    S = Server(demo=300)
    S.start()
    try:
        for t in (setup, test_matrix):
            try:
                t()
                print(f"ok   {t.__name__}", file=sys.stderr)
            except Exception:
                check(False, f"{t.__name__} raised:\n{traceback.format_exc()}")
    finally:
        S.cleanup()
    done()


main()
