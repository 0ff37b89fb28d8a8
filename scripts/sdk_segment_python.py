"""Drives the official Segment Python SDK (segment-analytics-python) against journeyd.

Only the host and the write key are changed from a stock setup; the test CA is trusted through
REQUESTS_CA_BUNDLE, the standard way for any requests-based client. Exits non-zero if the SDK
reports an error. Usage: sdk_segment_python.py HOST WRITE_KEY USER_ID
"""
import sys

from segment.analytics import Client

host, write_key, user_id = sys.argv[1], sys.argv[2], sys.argv[3]
errors = []
client = Client(write_key, host=host, gzip=True, max_retries=0, on_error=lambda error, batch: errors.append(error))
anonymous_id = "sdk-anon-" + user_id
client.page(anonymous_id=anonymous_id, category="Docs", name="Home", properties={"path": "/"})
client.track(anonymous_id=anonymous_id, event="Product Viewed", properties={"sku": "sdk-1", "price": 9.5})
client.identify(user_id, {"email": user_id + "@sdk.example.com", "plan": "free"}, anonymous_id=anonymous_id)
client.screen(user_id, category="App", name="Checkout")
client.group(user_id, "company-1", {"name": "Acme"})
client.alias("previous-" + user_id, user_id)
client.track(user_id, "Order Completed", {"revenue": 42})
client.flush()
client.join()
if errors:
    print("SDK errors:", errors, file=sys.stderr)
    sys.exit(1)
