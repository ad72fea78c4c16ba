"""The console's Chinese text, in one place (pages that are mostly text keep it in their templates)."""

CONSOLE_TITLE = "支部助手 · 管理后台"
NAV_OVERVIEW = "总览"
NAV_PEOPLE = "组织与党员"
NAV_AUDIT = "审计日志"
LOGOUT = "退出"

CSRF_FAILED = "页面已过期，请刷新后再试。"
LOGIN_REQUIRED_TITLE = "请先登录"
NOT_FOUND = "没有找到，或不在您的管理范围内。"
FORBIDDEN = "您没有权限进行此操作。"
READ_ONLY = "观察员可查看所联系支部的情况，不能修改。"
