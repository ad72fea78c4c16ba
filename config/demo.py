"""The demo's fixed identities: the seeded organisation, the sandbox and `zhibu demo` must agree on them.

These are not secrets: they only ever talk to the local emulator. Production values come from ZHIBU_*.
"""

DINGTALK_CORP_ID = "dingzhibudemo0001"
DINGTALK_CLIENT_ID = "dingzhibudemoapp"
DINGTALK_CLIENT_SECRET = "zhibu-demo-dingtalk-client-secret"
DINGTALK_ROBOT_CODE = "dingzhibudemoapp"
DINGTALK_AGENT_ID = "3000000001"

WECOM_CORP_ID = "wwzhibudemo00001"
WECOM_AGENT_ID = "1000002"
WECOM_SECRET = "zhibu-demo-wecom-secret"
WECOM_TOKEN = "zhibudemotoken"
# 43 characters, as the WeCom console issues EncodingAESKey.
WECOM_ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
