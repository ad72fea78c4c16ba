"""The console's Chinese text, in one place (pages that are mostly text keep it in their templates)."""

CONSOLE_TITLE = "支部助手 · 管理后台"
NAV_OVERVIEW = "总览"
NAV_PEOPLE = "组织与党员"
NAV_AUDIT = "审计日志"
LOGOUT = "退出"

CSRF_FAILED = "页面已过期，请刷新后再试。"
NOT_DONE_TITLE = "操作未完成"  # the title of a refused request that is not a form's bad value (403, 413)
LOGIN_REQUIRED_TITLE = "请先登录"
NOT_FOUND_TITLE = "没有找到"
NOT_FOUND = "没有找到，或不在您的管理范围内。"
FORBIDDEN = "您没有权限进行此操作。"
BAD_INPUT = "填写的内容有误"  # the title of a 422: a bad value, not a missing right
BAD_ADDRESS = "网址中的内容有误（{fields}），请从页面上的链接或表单重新进入。"
READ_ONLY = "观察员可查看所联系支部的情况，不能修改。"

# ---- login (bot/web/console/auth.py, handlers/console/chat.py)

LOGIN_TITLE = "登录管理后台"
LOGIN_INTRO = "管理后台供上级党委组织部、党（工）委和党支部书记使用。请选择一种方式登录："
LOGIN_DINGTALK = "钉钉扫码登录"
LOGIN_WECOM = "企业微信扫码登录"
LOGIN_BY_CHAT = (
    "也可以在钉钉或企业微信里给“支部助手”发送“登录后台”，点开回复的链接即可登录"
    "（链接 5 分钟内有效，只能使用一次）。"
)
LOGIN_NO_PLATFORM = "本系统还没有接入钉钉或企业微信，暂时无法扫码登录。"
LOGGED_OUT = "您已退出管理后台。"

LOGIN_FAILED_TITLE = "登录没有成功"
LOGIN_STATE_BAD = "登录页面已过期或不是从本站打开的，请回到登录页重新扫码。"
LOGIN_PLATFORM_FAILED = "未能从{platform}确认您的身份（授权码无效或已使用），请回到登录页重新扫码。"
LOGIN_DECLINED = "您在{platform}取消了登录。"
LOGIN_UNKNOWN_ACCOUNT = (
    "系统里没有登记您的{platform}账号（账号 ID：{account}）。"
    "请联系上级党委组织部在党员名册中为您添加后再登录。"
)
LOGIN_INACTIVE = "您在党员名册中的登记已停用，不能登录管理后台。如有疑问，请联系上级党委组织部。"
LOGIN_MEMBER_TITLE = "管理后台仅供书记、党委和组织部使用"
LOGIN_MEMBER = (
    "{name}同志，您好！管理后台是为党支部书记、党（工）委和组织部同志准备的，您目前没有需要在后台办理的事项。"
    "参加组织生活、请假、交党费等，请继续在钉钉或企业微信里使用“支部助手”。"
)
LOGIN_THROTTLED_TITLE = "登录尝试过于频繁"
LOGIN_THROTTLED = "短时间内登录失败次数过多，为保护账号安全，请 {minutes} 分钟后再试。"
BACK_TO_LOGIN = "返回登录页"

LINK_TITLE = "进入管理后台"
LINK_INTRO = "这是您在“支部助手”里获取的一次性登录链接。点击下面的按钮进入管理后台。"
LINK_ENTER = "进入管理后台"
LINK_INVALID_TITLE = "登录链接已失效"
LINK_INVALID = (
    "这个登录链接已经用过或已超过 5 分钟有效期。"
    "请在钉钉或企业微信里给“支部助手”再发送一次“登录后台”，点开新的链接即可登录。"
)

# The chat command 登录后台.
CHAT_HELP = "获取管理后台的一次性登录链接（书记、党委和组织部使用）"
CHAT_LINK_TITLE = "管理后台登录链接"
CHAT_LINK = (
    "请在 {minutes} 分钟内点击下面的链接登录管理后台（只能使用一次，请勿转发）：\n\n[进入管理后台]({url})\n\n"
    "链接失效后，再发送“登录后台”即可获取新的链接。"
)
CHAT_MEMBER = (
    "管理后台是为党支部书记、党（工）委和组织部同志准备的，您目前不需要登录。有事请继续在这里发消息给我。"
)
