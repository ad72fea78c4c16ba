"""A local emulator of the DingTalk and WeCom servers (platforms.md §6), for the tests and the demo.

The unmodified dingtalk-stream and wechatpy clients talk to it over loopback HTTP and WebSocket exactly as to
the real servers; a control API under /_sandbox and `sandbox.testing` let tests play the members, and the chat
page at / lets a person do the same in a browser. Product code never imports this package.
"""
