// Every text of the console in Chinese (the default) and English; the choice is kept in localStorage.
//   t("orders.none_for", {q: "x"})  -> the text with {q} filled in
//   tx("status." + s, s)            -> the text, or the fallback when there is none (values the API may add later)
const STORAGE_KEY = "paygate.console.lang";
const LANGS = ["zh-CN", "en"];

const zh = {
  "app.name": "paygate 控制台",
  "app.footer": "paygate · 自托管支付平台",

  "nav.dashboard": "概览", "nav.orders": "订单", "nav.notifications": "通知记录", "nav.merchants": "商户",
  "nav.money": "资金", "nav.users": "用户", "nav.audit": "审计日志", "nav.account": "我的账户",
  "nav.logout": "退出", "nav.menu": "菜单",

  "role.admin": "管理员", "role.support": "客服", "role.merchant": "商户", "role.cli": "命令行",
  "role.merchant_of": "商户 #{id}",

  "common.all": "全部", "common.apply": "查询", "common.reset": "重置", "common.cancel": "取消", "common.close": "关闭",
  "common.confirm": "确认", "common.submit": "提交", "common.save": "保存", "common.saved": "已保存",
  "common.create": "创建", "common.copy": "复制", "common.copied": "已复制", "common.copy_failed": "复制失败，请手动选择",
  "common.empty": "暂无数据", "common.loading": "加载中…", "common.export_csv": "导出 CSV",
  "common.from": "开始日期", "common.to": "结束日期", "common.prev_page": "上一页", "common.next_page": "下一页",
  "common.page_n": "第 {n} 页", "common.yes": "是", "common.no": "否", "common.on": "已开通", "common.off": "未开通",
  "common.actions": "操作",

  "error.generic": "操作失败，请稍后重试",
  "error.network": "无法连接服务器，请检查网络",
  "error.bad_request": "请求参数有误", "error.unauthenticated": "登录已过期，请重新登录",
  "error.bad_credentials": "用户名或密码错误", "error.csrf": "页面已过期，请刷新后重试",
  "error.forbidden": "没有权限执行此操作", "error.not_found": "未找到", "error.conflict": "当前状态不允许此操作",
  "error.unsupported_media_type": "请求格式不受支持", "error.payload_too_large": "请求内容过大",
  "error.rate_limited": "请求过于频繁，请稍后再试", "error.unavailable": "服务暂时不可用，请稍后重试",
  "error.internal": "服务器内部错误", "error.http_404": "未找到", "error.http_500": "服务器内部错误",
  "error.http_502": "网关错误", "error.http_503": "服务暂时不可用",

  "login.title": "登录控制台", "login.subtitle": "运营人员与商户共用的管理后台",
  "login.name": "用户名", "login.password": "密码", "login.submit": "登录", "login.signing_in": "登录中…",
  "login.missing": "请输入用户名和密码", "login.bad_credentials": "用户名或密码错误",
  "login.rate_limited": "登录失败次数过多，请 15 分钟后再试",

  "protocol.consign": "卡券寄售", "protocol.gateway": "网关代收", "protocol.payout": "代付", "protocol.cashier": "收银台",
  "kind.card": "卡券", "kind.payin": "代收", "kind.payout": "代付", "kind.cashier": "收银台",

  "status.processing": "处理中", "status.review": "待审核", "status.success": "成功", "status.failed": "失败",
  "status.waiting": "待支付", "status.paid": "已支付", "status.approval": "待审批", "status.rejected": "已驳回",
  "status.unpaid": "未支付", "status.pending": "待结算", "status.held": "已冻结", "status.expired": "已过期",
  "status.delivered": "已送达", "status.retrying": "重试中", "status.scheduled": "待发送", "status.dead": "已放弃",
  "status.enabled": "启用", "status.disabled": "停用", "status.sending": "发送中",

  "dashboard.range": "时间范围", "dashboard.days_n": "近 {n} 天", "dashboard.all_merchants": "全部商户",
  "dashboard.volume": "成交额", "dashboard.orders": "订单数", "dashboard.success_rate": "成功率",
  "dashboard.available": "可用余额", "dashboard.last_days": "近 {n} 天成功订单金额",
  "dashboard.succeeded_n": "成功 {n} 笔", "dashboard.of_orders": "成功订单 / 全部订单",
  "dashboard.pending_frozen": "待结算 {p} · 冻结 {f}",
  "dashboard.volume_by_protocol": "各业务每日成交额", "dashboard.success_by_protocol": "各业务每日成功率",
  "dashboard.by_channel": "通道表现", "dashboard.notifications": "通知送达情况", "dashboard.balances": "余额",
  "dashboard.delivered": "已送达", "dashboard.failed": "最终失败", "dashboard.attempts_failed": "失败尝试",
  "dashboard.pending_now": "当前待发送", "dashboard.day": "日期", "dashboard.no_chart": "图表组件未加载",
  "dashboard.no_orders": "所选范围内还没有订单", "dashboard.ten_thousand": "万",

  "orders.search": "搜索", "orders.more_filters": "更多筛选", "orders.search_placeholder": "订单号 / 商户订单号 / 卡号 / 批次号",
  "orders.id": "平台订单号", "orders.merchant_order_id": "商户订单号", "orders.merchant": "商户",
  "orders.merchant_id": "商户号", "orders.protocol": "业务", "orders.kind": "类型", "orders.channel": "通道/产品",
  "orders.channel_placeholder": "如 2、JDE、WeiXin",
  "orders.amount": "金额", "orders.settled": "入账", "orders.status": "状态", "orders.created": "创建时间",
  "orders.updated": "更新时间", "orders.none": "没有符合条件的订单", "orders.none_for": "没有找到与“{q}”匹配的订单",

  "order.title": "订单详情", "order.fields": "订单信息", "order.timeline": "处理时间线", "order.postings": "账务分录",
  "order.notifications": "异步通知", "order.not_found": "订单不存在",
  "order.not_found_help": "找不到订单 {id}，或您无权查看。", "order.no_postings": "暂无账务分录",
  "order.no_notifications": "此订单没有异步通知", "order.no_attempts": "尚未发送",
  "order.entry": "分录号", "order.entry_kind": "类型", "order.account": "账户", "order.at": "时间",
  "order.attempts_made": "已发送 {made}/{max} 次", "order.next_attempt": "下次发送 {at}",
  "order.attempt_time": "发送时间", "order.latency": "耗时", "order.http_status": "HTTP 状态", "order.result": "结果",
  "order.response": "响应内容", "order.delivered": "已送达", "order.not_delivered": "未送达",
  "order.action.resend": "重发通知", "order.action.resolve": "处理审核", "order.action.hold": "冻结",
  "order.action.release": "解冻", "order.action.approve": "审批通过", "order.action.reject": "驳回",
  "order.done.resend": "已重新发送通知", "order.done.resolve": "审核已处理", "order.done.hold": "订单已冻结",
  "order.done.release": "订单已解冻", "order.done.approve": "代付已审批通过", "order.done.reject": "代付已驳回",
  "order.confirm_resend": "立即向商户重新发送此订单的最新通知？", "order.confirm_hold": "冻结此订单的资金？",
  "order.confirm_approve": "审批通过代付 {id}（{amount}）？", "order.confirm_reject": "驳回代付 {id}（{amount}），资金退回商户余额？",
  "order.resolve_success": "成功", "order.resolve_fail": "失败", "order.real_value": "实际面值（元）",
  "order.real_value_hint": "按实际面值和费率给商户入账", "order.fail_message": "失败原因",
  "order.resolve_message_placeholder": "如：卡密错误", "order.bad_amount": "请输入正确的金额，如 100.00",
  "order.need_message": "请填写失败原因", "order.release_help": "解冻后资金去向：",
  "order.release_merchant": "结算给商户", "order.release_payer": "退回付款人", "order.note_optional": "备注（可选）",
  "order.resent": "订单 {id} 的通知已重新发送",

  "notifications.help": "发往您服务器的异步通知，最新的在前：状态、发送次数、最近一次的 HTTP 状态和响应；点击“发送记录”查看每次发送，或直接重发。",
  "notifications.help_operator": "发往各商户服务器的异步通知，最新的在前：状态、发送次数、最近一次的 HTTP 状态和响应；点击“发送记录”查看每次发送，或直接重发。",
  "notifications.attempts": "发送记录", "notifications.id": "通知编号", "notifications.state": "通知状态",
  "notifications.attempts_made": "已发送/上限", "notifications.last_activity": "最近发送",
  "notifications.order_placeholder": "平台订单号", "notifications.none": "没有符合条件的通知",
  "notify_state.pending": "待发送", "notify_state.delivered": "已送达", "notify_state.failed": "发送失败", "notify_state.superseded": "已被新状态取代",

  "merchants.create": "新建商户", "merchants.created": "商户已创建", "merchants.name": "商户名称", "merchants.id": "商户号",
  "merchants.state": "状态", "merchants.app_key": "AppKey", "merchants.none": "没有商户",
  "merchants.search_placeholder": "商户号或名称", "merchants.payout_fee": "代付手续费（元/笔）",
  "merchants.payout_fee_hint": "每笔代付收取的固定费用", "merchants.settlement_delay": "结算周期（T+N 天）",
  "merchants.settlement_delay_hint": "收银台订单延迟结算的天数", "merchants.enabled": "启用商户",
  "merchants.manual_approval": "代付需人工审批", "merchants.bound_card": "允许绑卡支付",
  "merchants.ip_allowlist": "API IP 白名单", "merchants.ip_allowlist_hint": "每行一个 IP 或 CIDR，最多 32 条；留空则不限制",

  "merchant.settings": "商户设置", "merchant.keys": "密钥", "merchant.keys_version": "密钥版本",
  "merchant.key_fingerprint": "签名密钥指纹", "merchant.aes_fingerprint": "AES 密钥指纹",
  "merchant.keys_hint": "密钥只在创建和重置时显示一次，此处只显示指纹。", "merchant.rotate": "重置密钥",
  "merchant.rotate_confirm": "重置后旧密钥立即失效，商户必须换用新密钥才能继续调用接口。确定重置？",
  "merchant.rotated": "新密钥", "merchant.channels": "支付通道与费率", "merchant.channel": "通道",
  "merchant.processor": "处理方", "merchant.limits": "单笔限额", "merchant.fee_rate": "费率",
  "merchant.channel_saved": "通道 {name} 已保存", "merchant.no_channels": "没有可用通道",
  "merchant.products": "卡券产品", "merchant.product_code": "产品代码", "merchant.product_name": "产品名称",
  "merchant.default_rate": "默认结算比例", "merchant.product_saved": "产品 {code} 已更新", "merchant.product_off": "平台已停售", "merchant.no_products": "没有产品",
  "merchant.users": "商户登录账号", "merchant.no_users": "还没有登录账号", "merchant.view_orders": "查看订单",

  "keys.once_title": "请立即保存以下密钥",
  "keys.once_text": "密钥只显示这一次，关闭后无法再次查看。遗失只能重置密钥，旧密钥随之失效。",
  "keys.merchant_id": "商户号", "keys.appKey": "AppKey", "keys.key": "签名密钥 (key)", "keys.aesKey": "AES 密钥 (aesKey)",
  "keys.saved": "我已保存",

  "money.tab.balances": "余额", "money.tab.statement": "资金流水", "money.tab.reconciliation": "日终对账",
  "money.platform": "平台", "money.platform_revenue": "平台收入", "money.platform_fees": "手续费收入", "money.platform_consign_clearing": "卡券清算", "money.platform_gateway_clearing": "网关清算", "money.platform_payout_clearing": "代付清算", "money.platform_cashier_clearing": "收银台清算",
  "money.account": "账户", "money.opening": "期初余额", "money.closing": "期末余额", "money.reference": "关联单号",
  "money.balance": "余额", "money.no_balances": "没有余额记录", "money.no_entries": "所选范围内没有流水",
  "money.pick_merchant": "请输入商户号查看流水", "money.statement_link": "流水", "money.date": "对账日期",

  "account.available": "可用", "account.pending": "待结算", "account.frozen": "冻结", "account.payout_reserved": "代付在途",
  "account.me": "账户信息", "account.change_password": "修改密码", "account.current_password": "当前密码",
  "account.new_password": "新密码", "account.new_password_again": "再次输入新密码", "account.mismatch": "两次输入的新密码不一致",
  "account.password_changed": "密码已修改", "account.days": "{n} 天", "account.any_ip": "不限制",
  "account.keys_hint": "如需新密钥，请联系平台运营人员重置。",

  "recon.matched": "已对平", "recon.unmatched": "未对平", "recon.orders": "订单数", "recon.gross": "交易额",
  "recon.fee": "手续费", "recon.net": "净额", "recon.payouts": "代付笔数", "recon.payouts_amount": "代付金额",
  "recon.payout_fees": "代付手续费", "recon.total": "合计", "recon.ledger": "账务系统",
  "recon.ledger_credited": "入账合计", "recon.ledger_payouts": "代付合计", "recon.differences": "差异",
  "recon.no_rows": "当日没有交易", "recon.window": "统计区间 {from} 至 {to}",

  "users.create": "新建用户", "users.create_login": "创建登录账号", "users.created": "用户 {name} 已创建",
  "users.name": "用户名", "users.role": "角色", "users.password": "初始密码", "users.password_hint": "10–128 个字符",
  "users.last_login": "最近登录", "users.none": "没有用户", "users.disable": "停用", "users.enable": "启用",
  "users.disabled": "用户 {name} 已停用", "users.enabled": "用户 {name} 已启用",
  "users.disable_confirm": "停用 {name}？其所有会话将立即失效。", "users.set_password": "重置密码",
  "users.set_password_help": "为 {name} 设置新密码，其现有会话将失效。", "users.you": "当前用户",

  "audit.at": "时间", "audit.actor": "操作人", "audit.action": "操作", "audit.target": "对象",
  "audit.target_type": "对象类型", "audit.target_id": "对象 ID", "audit.changes": "变更内容",
  "audit.address": "来源地址", "audit.action_placeholder": "如 merchant.update", "audit.target_type_placeholder": "如 merchant、order", "audit.none": "没有审计记录", "audit.no_changes": "无字段变化",

  "audit_action.user.create": "创建用户", "audit_action.user.disable": "停用用户", "audit_action.user.enable": "启用用户",
  "audit_action.user.password": "重置密码", "audit_action.merchant.create": "创建商户",
  "audit_action.merchant.update": "修改商户", "audit_action.merchant.rotate_keys": "重置密钥",
  "audit_action.channel.set": "设置通道", "audit_action.product.set": "设置产品", "audit_action.product.add": "新增产品", "audit_action.product.update": "修改产品", "audit_action.order.resend": "重发通知",
  "audit_action.order.resolve": "处理审核", "audit_action.order.hold": "冻结订单", "audit_action.order.release": "解冻订单",
  "audit_action.payout.approve": "审批代付", "audit_action.payout.reject": "驳回代付",
  "audit_action.session.login": "登录", "audit_action.session.logout": "退出",

  "target.merchant": "商户", "target.order": "订单", "target.user": "用户", "target.product": "产品",
  "target.channel": "通道", "target.notification": "通知", "target.session": "会话", "target.payout": "代付",

  "event.created": "创建", "event.state": "状态变更", "event.status": "状态变更", "event.ledger": "记账",
  "event.notify": "发送通知", "event.notify_attempt": "发送通知", "event.operator": "人工操作",
  "event.resend": "重发通知", "event.resolve": "处理审核", "event.hold": "冻结", "event.release": "解冻",
  "event.approve": "审批通过", "event.reject": "驳回", "event.paid": "已支付", "event.failed": "失败",
  "event.success": "成功", "event.review": "转人工审核", "event.settled": "已结算",


  "entry.consign.settle": "卡券结算", "entry.gateway.payin": "代收入账", "entry.gateway.payout.reserve": "代付预留",
  "entry.gateway.payout.paid": "代付出款", "entry.gateway.payout.refund": "代付退回", "entry.cashier.pay": "收银台入账",
  "entry.cashier.settle": "收银台结算", "entry.cashier.hold": "冻结", "entry.cashier.release": "解冻",
  "entry.cashier.return": "退回付款人",
  "ledger_account.merchant": "商户 {id} · {account}", "ledger_account.platform:revenue": "平台收入",
  "ledger_account.platform:consign_clearing": "卡券清算", "ledger_account.platform:gateway_clearing": "网关清算",
  "ledger_account.platform:cashier_clearing": "收银台清算", "ledger_account.platform:payout_clearing": "代付清算",

  "event.notify.queued": "通知入队", "event.notify.attempt": "发送通知",
  "field.product_type": "产品类型", "field.face_money_yuan": "面值", "field.real_money_yuan": "实际面值",
  "field.protocol_status": "协议状态码", "field.custom": "自定义参数", "field.success_time_s": "成功时间",
  "field.process_after_ms": "计划处理时间", "field.finished_at_ms": "完成时间", "field.channel_id": "通道号",
  "field.fee_rate_permille": "费率", "field.processor": "处理方", "field.amount_text": "金额原文",
  "field.accname": "户名", "field.accno": "账号", "field.account": "账户", "field.action": "支付方式",
  "field.backurl": "后台通知地址", "field.fronturl": "前台跳转地址", "field.held_from": "冻结前状态",
  "field.result_code": "结果码", "field.settle_after_ms": "结算时间",
  "field.id": "平台订单号", "field.merchant_order_id": "商户订单号", "field.merchant_id": "商户号",
  "field.merchant_name": "商户", "field.protocol": "业务", "field.kind": "类型", "field.channel": "通道/产品",
  "field.amount_fen": "金额", "field.settled_fen": "入账金额", "field.fee_fen": "手续费", "field.status": "状态",
  "field.created_at_ms": "创建时间", "field.updated_at_ms": "更新时间", "field.batchno": "批次号",
  "field.card_number": "卡号", "field.card_password": "卡密", "field.face_fen": "面值", "field.real_fen": "实际面值",
  "field.message": "说明", "field.notify_url": "通知地址", "field.product_code": "产品代码",
  "field.callback_url": "回调地址", "field.return_url": "返回地址", "field.paid_fen": "实付金额",
  "field.bank_name": "开户行", "field.account_name": "户名", "field.account_number": "账号", "field.payer": "付款人",
  "field.expires_at_ms": "过期时间", "field.paid_at_ms": "支付时间", "field.method": "支付方式",
  "field.settle_at_ms": "结算时间", "field.rate_permille": "结算比例",
};

const en = {
  "app.name": "paygate console",
  "app.footer": "paygate · self-hosted payments",

  "nav.dashboard": "Dashboard", "nav.orders": "Orders", "nav.notifications": "Notifications", "nav.merchants": "Merchants",
  "nav.money": "Money", "nav.users": "Users", "nav.audit": "Audit log", "nav.account": "My account",
  "nav.logout": "Log out", "nav.menu": "Menu",

  "role.admin": "Admin", "role.support": "Support", "role.merchant": "Merchant", "role.cli": "CLI",
  "role.merchant_of": "Merchant #{id}",

  "common.all": "All", "common.apply": "Apply", "common.reset": "Reset", "common.cancel": "Cancel", "common.close": "Close",
  "common.confirm": "Confirm", "common.submit": "Submit", "common.save": "Save", "common.saved": "Saved",
  "common.create": "Create", "common.copy": "Copy", "common.copied": "Copied", "common.copy_failed": "Copy failed; select it by hand",
  "common.empty": "Nothing here yet", "common.loading": "Loading…", "common.export_csv": "Export CSV",
  "common.from": "From", "common.to": "To", "common.prev_page": "Previous", "common.next_page": "Next page",
  "common.page_n": "Page {n}", "common.yes": "Yes", "common.no": "No", "common.on": "Enabled", "common.off": "Disabled",
  "common.actions": "Actions",

  "error.generic": "Something went wrong; please try again",
  "error.network": "Cannot reach the server; check the connection",
  "error.bad_request": "The request is not valid", "error.unauthenticated": "Your session has ended; please log in again",
  "error.bad_credentials": "Wrong name or password", "error.csrf": "This page is out of date; reload and try again",
  "error.forbidden": "You may not do this", "error.not_found": "Not found", "error.conflict": "Not possible in the current state",
  "error.unsupported_media_type": "Unsupported request format", "error.payload_too_large": "The request is too large",
  "error.rate_limited": "Too many requests; try again later", "error.unavailable": "Temporarily unavailable; try again shortly",
  "error.internal": "Internal server error", "error.http_404": "Not found", "error.http_500": "Internal server error",
  "error.http_502": "Bad gateway", "error.http_503": "Temporarily unavailable",

  "login.title": "Sign in to the console", "login.subtitle": "For the platform's operators and its merchants",
  "login.name": "Name", "login.password": "Password", "login.submit": "Sign in", "login.signing_in": "Signing in…",
  "login.missing": "Enter your name and password", "login.bad_credentials": "Wrong name or password",
  "login.rate_limited": "Too many failed sign-ins; try again in 15 minutes",

  "protocol.consign": "Consign", "protocol.gateway": "Gateway", "protocol.payout": "Payouts", "protocol.cashier": "Cashier",
  "kind.card": "Card", "kind.payin": "Pay-in", "kind.payout": "Payout", "kind.cashier": "Cashier",

  "status.processing": "Processing", "status.review": "In review", "status.success": "Succeeded", "status.failed": "Failed",
  "status.waiting": "Waiting", "status.paid": "Paid", "status.approval": "Awaiting approval", "status.rejected": "Rejected",
  "status.unpaid": "Unpaid", "status.pending": "Pending", "status.held": "Held", "status.expired": "Expired",
  "status.delivered": "Delivered", "status.retrying": "Retrying", "status.scheduled": "Scheduled", "status.dead": "Given up",
  "status.enabled": "Enabled", "status.disabled": "Disabled", "status.sending": "Sending",

  "dashboard.range": "Range", "dashboard.days_n": "Last {n} days", "dashboard.all_merchants": "All merchants",
  "dashboard.volume": "Volume", "dashboard.orders": "Orders", "dashboard.success_rate": "Success rate",
  "dashboard.available": "Available balance", "dashboard.last_days": "Succeeded amounts, last {n} days",
  "dashboard.succeeded_n": "{n} succeeded", "dashboard.of_orders": "Succeeded / all orders",
  "dashboard.pending_frozen": "Pending {p} · frozen {f}",
  "dashboard.volume_by_protocol": "Daily volume by protocol", "dashboard.success_by_protocol": "Daily success rate by protocol",
  "dashboard.by_channel": "Channels", "dashboard.notifications": "Notification delivery", "dashboard.balances": "Balances",
  "dashboard.delivered": "Delivered", "dashboard.failed": "Failed for good", "dashboard.attempts_failed": "Failed attempts",
  "dashboard.pending_now": "Waiting now", "dashboard.day": "Day", "dashboard.no_chart": "The chart library did not load",
  "dashboard.no_orders": "No orders in this range yet", "dashboard.ten_thousand": "k",

  "orders.search": "Search", "orders.more_filters": "More filters", "orders.search_placeholder": "Order id / merchant order id / card / batch",
  "orders.id": "Order id", "orders.merchant_order_id": "Merchant order id", "orders.merchant": "Merchant",
  "orders.merchant_id": "Merchant id", "orders.protocol": "Protocol", "orders.kind": "Kind", "orders.channel": "Channel / product",
  "orders.channel_placeholder": "e.g. 2, JDE, WeiXin",
  "orders.amount": "Amount", "orders.settled": "Settled", "orders.status": "Status", "orders.created": "Created",
  "orders.updated": "Updated", "orders.none": "No orders match", "orders.none_for": "No order matches “{q}”",

  "order.title": "Order", "order.fields": "Details", "order.timeline": "Timeline", "order.postings": "Ledger postings",
  "order.notifications": "Notifications", "order.not_found": "Order not found",
  "order.not_found_help": "There is no order {id}, or you may not see it.", "order.no_postings": "No postings yet",
  "order.no_notifications": "This order has no notifications", "order.no_attempts": "Not sent yet",
  "order.entry": "Entry", "order.entry_kind": "Kind", "order.account": "Account", "order.at": "Time",
  "order.attempts_made": "{made}/{max} attempts", "order.next_attempt": "next at {at}",
  "order.attempt_time": "Sent at", "order.latency": "Latency", "order.http_status": "HTTP status", "order.result": "Result",
  "order.response": "Response", "order.delivered": "Delivered", "order.not_delivered": "Not delivered",
  "order.action.resend": "Resend notification", "order.action.resolve": "Resolve review", "order.action.hold": "Hold",
  "order.action.release": "Release", "order.action.approve": "Approve", "order.action.reject": "Reject",
  "order.done.resend": "Notification sent again", "order.done.resolve": "Review resolved", "order.done.hold": "Order held",
  "order.done.release": "Order released", "order.done.approve": "Payout approved", "order.done.reject": "Payout rejected",
  "order.confirm_resend": "Send this order's latest notification to the merchant again now?", "order.confirm_hold": "Hold this order's money?",
  "order.confirm_approve": "Approve payout {id} ({amount})?", "order.confirm_reject": "Reject payout {id} ({amount}) and return the money to the merchant's balance?",
  "order.resolve_success": "Success", "order.resolve_fail": "Failure", "order.real_value": "Real value (yuan)",
  "order.real_value_hint": "The merchant is credited from this value and its rate", "order.fail_message": "Reason",
  "order.resolve_message_placeholder": "e.g. wrong card password", "order.bad_amount": "Enter an amount such as 100.00",
  "order.need_message": "Give a reason", "order.release_help": "Where the money goes:",
  "order.release_merchant": "Settle to the merchant", "order.release_payer": "Refund the payer", "order.note_optional": "Note (optional)",
  "order.resent": "Notification of {id} sent again",

  "notifications.help": "Notifications to your server, newest first: state, attempts, the last HTTP status and response. Open “Attempts” for every response received, or resend.",
  "notifications.help_operator": "Notifications to merchants' servers, newest first: state, attempts, the last HTTP status and response. Open “Attempts” for every response received, or resend.",
  "notifications.attempts": "Attempts", "notifications.id": "Notification", "notifications.state": "State",
  "notifications.attempts_made": "Attempts / max", "notifications.last_activity": "Last sent",
  "notifications.order_placeholder": "Platform order id", "notifications.none": "No notifications match",
  "notify_state.pending": "Pending", "notify_state.delivered": "Delivered", "notify_state.failed": "Failed", "notify_state.superseded": "Superseded by a newer state",

  "merchants.create": "New merchant", "merchants.created": "Merchant created", "merchants.name": "Name", "merchants.id": "Merchant id",
  "merchants.state": "State", "merchants.app_key": "AppKey", "merchants.none": "No merchants",
  "merchants.search_placeholder": "Merchant id or name", "merchants.payout_fee": "Payout fee (yuan each)",
  "merchants.payout_fee_hint": "A fixed fee per payout", "merchants.settlement_delay": "Settlement delay (T+N days)",
  "merchants.settlement_delay_hint": "Days before cashier orders settle", "merchants.enabled": "Merchant enabled",
  "merchants.manual_approval": "Payouts need manual approval", "merchants.bound_card": "Bound-card payments allowed",
  "merchants.ip_allowlist": "API IP allowlist", "merchants.ip_allowlist_hint": "One address or CIDR range a line, at most 32; empty allows any",

  "merchant.settings": "Settings", "merchant.keys": "Keys", "merchant.keys_version": "Keys version",
  "merchant.key_fingerprint": "Signing key fingerprint", "merchant.aes_fingerprint": "AES key fingerprint",
  "merchant.keys_hint": "Keys are shown once, at creation and rotation; here only their fingerprints.", "merchant.rotate": "Rotate keys",
  "merchant.rotate_confirm": "The old keys stop working at once; the merchant must switch to the new ones. Rotate?",
  "merchant.rotated": "New keys", "merchant.channels": "Channels and rates", "merchant.channel": "Channel",
  "merchant.processor": "Processor", "merchant.limits": "Limits", "merchant.fee_rate": "Fee rate",
  "merchant.channel_saved": "Channel {name} saved", "merchant.no_channels": "No channels",
  "merchant.products": "Card products", "merchant.product_code": "Code", "merchant.product_name": "Product",
  "merchant.default_rate": "Default rate", "merchant.product_saved": "Product {code} updated", "merchant.product_off": "withdrawn from the catalogue", "merchant.no_products": "No products",
  "merchant.users": "Console logins", "merchant.no_users": "No logins yet", "merchant.view_orders": "Orders",

  "keys.once_title": "Save these keys now",
  "keys.once_text": "They are shown this once and cannot be shown again. If lost, the keys must be rotated, which ends the old ones.",
  "keys.merchant_id": "Merchant id", "keys.appKey": "AppKey", "keys.key": "Signing key (key)", "keys.aesKey": "AES key (aesKey)",
  "keys.saved": "I have saved them",

  "money.tab.balances": "Balances", "money.tab.statement": "Statement", "money.tab.reconciliation": "Reconciliation",
  "money.platform": "Platform", "money.platform_revenue": "Revenue", "money.platform_fees": "Fees", "money.platform_consign_clearing": "Consign clearing", "money.platform_gateway_clearing": "Gateway clearing", "money.platform_payout_clearing": "Payout clearing", "money.platform_cashier_clearing": "Cashier clearing",
  "money.account": "Account", "money.opening": "Opening balance", "money.closing": "Closing balance", "money.reference": "Reference",
  "money.balance": "Balance", "money.no_balances": "No balances", "money.no_entries": "No entries in this range",
  "money.pick_merchant": "Enter a merchant id to see its statement", "money.statement_link": "Statement", "money.date": "Date",

  "account.available": "Available", "account.pending": "Pending", "account.frozen": "Frozen", "account.payout_reserved": "Payouts in flight",
  "account.me": "Account", "account.change_password": "Change password", "account.current_password": "Current password",
  "account.new_password": "New password", "account.new_password_again": "New password again", "account.mismatch": "The new passwords differ",
  "account.password_changed": "Password changed", "account.days": "{n} days", "account.any_ip": "Any address",
  "account.keys_hint": "For new keys, ask the platform's operators to rotate them.",

  "recon.matched": "Matched", "recon.unmatched": "Not matched", "recon.orders": "Orders", "recon.gross": "Gross",
  "recon.fee": "Fees", "recon.net": "Net", "recon.payouts": "Payouts", "recon.payouts_amount": "Payout amount",
  "recon.payout_fees": "Payout fees", "recon.total": "Total", "recon.ledger": "Ledger",
  "recon.ledger_credited": "Credited", "recon.ledger_payouts": "Payouts", "recon.differences": "Differences",
  "recon.no_rows": "No business that day", "recon.window": "From {from} to {to}",

  "users.create": "New user", "users.create_login": "New login", "users.created": "User {name} created",
  "users.name": "Name", "users.role": "Role", "users.password": "Password", "users.password_hint": "10 to 128 characters",
  "users.last_login": "Last login", "users.none": "No users", "users.disable": "Disable", "users.enable": "Enable",
  "users.disabled": "User {name} disabled", "users.enabled": "User {name} enabled",
  "users.disable_confirm": "Disable {name}? Their sessions end at once.", "users.set_password": "Set password",
  "users.set_password_help": "A new password for {name}; their sessions end.", "users.you": "You",

  "audit.at": "Time", "audit.actor": "Who", "audit.action": "Action", "audit.target": "Target",
  "audit.target_type": "Target type", "audit.target_id": "Target id", "audit.changes": "Changes",
  "audit.address": "From", "audit.action_placeholder": "e.g. merchant.update", "audit.target_type_placeholder": "e.g. merchant, order", "audit.none": "No audit entries", "audit.no_changes": "No field changed",

  "audit_action.user.create": "Created user", "audit_action.user.disable": "Disabled user", "audit_action.user.enable": "Enabled user",
  "audit_action.user.password": "Set password", "audit_action.merchant.create": "Created merchant",
  "audit_action.merchant.update": "Changed merchant", "audit_action.merchant.rotate_keys": "Rotated keys",
  "audit_action.channel.set": "Set channel", "audit_action.product.set": "Set product", "audit_action.product.add": "Added product", "audit_action.product.update": "Changed product", "audit_action.order.resend": "Resent notification",
  "audit_action.order.resolve": "Resolved review", "audit_action.order.hold": "Held order", "audit_action.order.release": "Released order",
  "audit_action.payout.approve": "Approved payout", "audit_action.payout.reject": "Rejected payout",
  "audit_action.session.login": "Logged in", "audit_action.session.logout": "Logged out",

  "target.merchant": "Merchant", "target.order": "Order", "target.user": "User", "target.product": "Product",
  "target.channel": "Channel", "target.notification": "Notification", "target.session": "Session", "target.payout": "Payout",

  "event.created": "Created", "event.state": "State changed", "event.status": "State changed", "event.ledger": "Ledger entry",
  "event.notify": "Notification sent", "event.notify_attempt": "Notification sent", "event.operator": "Operator action",
  "event.resend": "Notification resent", "event.resolve": "Review resolved", "event.hold": "Held", "event.release": "Released",
  "event.approve": "Approved", "event.reject": "Rejected", "event.paid": "Paid", "event.failed": "Failed",
  "event.success": "Succeeded", "event.review": "Sent to review", "event.settled": "Settled",


  "entry.consign.settle": "Card settled", "entry.gateway.payin": "Pay-in credited", "entry.gateway.payout.reserve": "Payout reserved",
  "entry.gateway.payout.paid": "Payout paid", "entry.gateway.payout.refund": "Payout refunded", "entry.cashier.pay": "Cashier payment",
  "entry.cashier.settle": "Cashier settled", "entry.cashier.hold": "Held", "entry.cashier.release": "Released",
  "entry.cashier.return": "Returned to payer",
  "ledger_account.merchant": "Merchant {id} · {account}", "ledger_account.platform:revenue": "Platform revenue",
  "ledger_account.platform:consign_clearing": "Consign clearing", "ledger_account.platform:gateway_clearing": "Gateway clearing",
  "ledger_account.platform:cashier_clearing": "Cashier clearing", "ledger_account.platform:payout_clearing": "Payout clearing",

  "event.notify.queued": "Notification queued", "event.notify.attempt": "Notification sent",
  "field.product_type": "Product type", "field.face_money_yuan": "Face value", "field.real_money_yuan": "Real value",
  "field.protocol_status": "Protocol status", "field.custom": "Custom", "field.success_time_s": "Succeeded at",
  "field.process_after_ms": "Processing due", "field.finished_at_ms": "Finished", "field.channel_id": "Channel id",
  "field.fee_rate_permille": "Fee rate", "field.processor": "Processor", "field.amount_text": "Amount as sent",
  "field.accname": "Account name", "field.accno": "Account number", "field.account": "Account", "field.action": "Method",
  "field.backurl": "Back notify URL", "field.fronturl": "Front URL", "field.held_from": "Held from",
  "field.result_code": "Result code", "field.settle_after_ms": "Settles at",
  "field.id": "Order id", "field.merchant_order_id": "Merchant order id", "field.merchant_id": "Merchant id",
  "field.merchant_name": "Merchant", "field.protocol": "Protocol", "field.kind": "Kind", "field.channel": "Channel / product",
  "field.amount_fen": "Amount", "field.settled_fen": "Settled", "field.fee_fen": "Fee", "field.status": "Status",
  "field.created_at_ms": "Created", "field.updated_at_ms": "Updated", "field.batchno": "Batch",
  "field.card_number": "Card number", "field.card_password": "Card password", "field.face_fen": "Face value", "field.real_fen": "Real value",
  "field.message": "Message", "field.notify_url": "Notify URL", "field.product_code": "Product",
  "field.callback_url": "Callback URL", "field.return_url": "Return URL", "field.paid_fen": "Paid",
  "field.bank_name": "Bank", "field.account_name": "Account name", "field.account_number": "Account number", "field.payer": "Payer",
  "field.expires_at_ms": "Expires", "field.paid_at_ms": "Paid at", "field.method": "Method",
  "field.settle_at_ms": "Settles at", "field.rate_permille": "Rate",
};

const TEXTS = { "zh-CN": zh, en };

let current = (() => {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch {
    // Storage may be off; Chinese then.
  }
  return "zh-CN";
})();

export function lang() {
  return current;
}

export function setLang(value) {
  if (!LANGS.includes(value)) return;
  current = value;
  try {
    localStorage.setItem(STORAGE_KEY, value);
  } catch {
    // Not remembered, still switched.
  }
  applyDocumentLang();
}

export function applyDocumentLang() {
  document.documentElement.lang = current;
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function tx(key, fallback, params) {
  const text = TEXTS[current][key];
  return text === undefined ? fallback : fill(text, params);
}

const reported = new Set();
export function t(key, params) {
  const text = TEXTS[current][key];
  if (text === undefined) {
    if (!reported.has(key)) {
      reported.add(key);
      console.warn("console i18n: no text for " + key);
    }
    return key;
  }
  return fill(text, params);
}

// For the tests: keys present in one language but not the other.
export function missingKeys() {
  const a = Object.keys(zh), b = Object.keys(en);
  return { en: a.filter((k) => !(k in en)), zh: b.filter((k) => !(k in zh)) };
}
