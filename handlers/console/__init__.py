"""The organisation department's web console: who may log in, what each one sees, and the one-time
login link the chat command 登录后台 answers with."""
