"""Every Chinese sentence the chat core itself says, in one place for review."""

UNBOUND = (
    "您好！系统里还没有登记您的{platform}账号，所以暂时无法为您办理。\n"
    "请联系所在党支部的书记或上级党委组织部，把您的{platform}账号加入党员名册，登记后即可使用。"
)
HANDLER_FAILED = "抱歉，处理您的消息时出了点问题，已经记录下来（编号 {ref}）。请稍后再试，或联系支部书记。"
UNKNOWN_ACTION = "这个按钮已失效或暂不支持，请发送“帮助”查看可以做什么。"
UNKNOWN_FORM = "这张表单已失效，请重新打开后再提交。"
FALLBACK = "没太明白您的意思。发送“帮助”可以查看您能使用的功能。"
REFUSED_TITLE = "无法办理"
SENT_PRIVATELY = "涉及个人信息，已单独发给您，请在与我的单聊中查看。"

REASON_UNBOUND = "未绑定钉钉或企业微信账号"
REASON_NO_PLATFORM = "所绑定的平台未启用"
REASON_UNKNOWN_ACCOUNT = "账号不存在或不在应用可见范围内"
REASON_LEFT_DIRECTORY = "已不在钉钉/企业微信通讯录中"
REASON_CARD_NOT_FOUND = "找不到要更新的卡片"
REASON_GAVE_UP = "多次发送失败：{error}"
REASON_REJECTED = "平台拒绝发送：{error}"
