//! Every word the desktop shows, in Simplified Chinese and English. One table, so the
//! font subset script (`scripts/make-font-subset.py`) can read all UI strings from here.

/// The language of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (the default: the 1000 hotline's agents work in Chinese).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The other one (the language switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The text for `key` in this language (the key itself if the table lacks it, so a
    /// missing string shows up in screenshots rather than as blank space).
    pub fn t(self, key: &'static str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| match self {
                Lang::Zh => *zh,
                Lang::En => *en,
            })
            .unwrap_or(key)
    }
}

/// (key, 中文, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app.title", "1000 客服坐席", "1000 Agent Desktop"),
    ("login.title", "坐席登录", "Agent login"),
    ("login.router", "路由服务器地址", "Router address"),
    ("login.agent", "工号", "Work number"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.busy", "正在登录…", "Logging in…"),
    (
        "login.wrong",
        "工号或密码错误",
        "Wrong work number or password",
    ),
    (
        "login.unreachable",
        "无法连接路由服务器",
        "The router cannot be reached",
    ),
    (
        "login.elsewhere",
        "您已在其他地方登录，本窗口已断开",
        "You logged in elsewhere; this window was disconnected",
    ),
    (
        "login.empty",
        "请输入工号和密码",
        "Enter your work number and password",
    ),
    ("state.logged_out", "未登录", "Logged out"),
    ("state.ready", "就绪", "Ready"),
    ("state.not_ready", "未就绪", "Not ready"),
    ("state.offered", "振铃", "Ringing"),
    ("state.call_back_offered", "回访振铃", "Call-back ringing"),
    ("state.on_call", "通话中", "On call"),
    ("state.on_hold", "保持中", "On hold"),
    ("state.wrap_up", "话后整理", "Wrap-up"),
    ("conn.online", "已连接", "Connected"),
    (
        "conn.reconnecting",
        "连接中断，正在重连",
        "Connection lost, reconnecting",
    ),
    ("btn.ready", "就绪 F1", "Ready F1"),
    ("btn.break", "小休 F2", "Break F2"),
    ("btn.answer", "接听 F3", "Answer F3"),
    ("btn.reject", "拒接 F4", "Reject F4"),
    ("btn.hold", "保持 F5", "Hold F5"),
    ("btn.resume", "恢复 F5", "Resume F5"),
    ("btn.hang_up", "挂断 F6", "Hang up F6"),
    ("btn.transfer", "转接 F7", "Transfer F7"),
    ("btn.wrap_up", "提交整理 F8", "Finish wrap-up F8"),
    ("btn.extend", "延长30秒 F9", "30 s more F9"),
    ("btn.logout", "签出 F12", "Log out F12"),
    ("btn.theme", "深色/浅色", "Dark/Light"),
    ("btn.lang", "English", "中文"),
    ("btn.search", "查询", "Search"),
    ("btn.new_customer", "新建客户", "New customer"),
    ("offer.title", "来电", "Incoming call"),
    ("cb.title", "回访任务", "Call-back"),
    ("cb.ticket", "工单", "Ticket"),
    ("cb.attempt", "第 {} 次", "attempt {}"),
    ("cb.resolved_as", "办结", "Resolved as"),
    ("cb.satisfaction", "客户满意度", "Customer's satisfaction"),
    (
        "cb.solved",
        "客户确认问题已解决",
        "Solved, the customer says",
    ),
    (
        "cb.not_reached",
        "未接通：提交后按规则再次回访",
        "Not reached: it will be tried again",
    ),
    ("line.ringing", "正在呼叫客户…", "Calling the customer…"),
    ("line.answered", "客户已接听", "The customer answered"),
    ("line.no_answer", "无人接听，请挂断", "No answer: hang up"),
    ("line.hung_up", "客户已挂机", "The customer hung up"),
    (
        "offer.rings",
        "秒后转下一位坐席",
        "s until it goes to the next agent",
    ),
    (
        "offer.no_answer",
        "未接听，来电已转下一位坐席",
        "Not answered: the call went to the next agent",
    ),
    ("offer.caller_gone", "来电方已挂机", "The caller hung up"),
    (
        "offer.rejected",
        "已拒接，来电回到队首",
        "Rejected: the call is back at the head of its queue",
    ),
    ("pop.title_customer", "客户信息", "Customer"),
    ("pop.unknown", "未登记号码", "Unknown caller"),
    (
        "pop.store_down",
        "客户资料暂不可用",
        "Customer record unavailable",
    ),
    (
        "pop.store_down_why",
        "客户资料库暂时无法连接，未能查询此号码；通话照常进行，通话记录稍后补写",
        "The customer store cannot be reached, so this number was not looked up; the call goes on and its record is written later",
    ),
    (
        "pop.none",
        "等待来电：来电时此处显示客户信息",
        "Waiting for a call: the caller's record shows here",
    ),
    (
        "pop.key_account",
        "政企大客户 · 绿色通道",
        "Key account · green channel",
    ),
    ("pop.public", "公众客户", "Public customer"),
    ("pop.vip", "星级", "VIP tier"),
    ("pop.manager", "客户经理", "Account manager"),
    ("pop.address", "地址", "Address"),
    ("pop.credit", "信用等级", "Credit level"),
    ("pop.group", "所属集团", "Enterprise group"),
    ("pop.services", "在用业务", "Services"),
    ("pop.arpu", "近6月ARPU(元)", "ARPU, last 6 months (yuan)"),
    ("pop.balance", "余额(元)", "Balance (yuan)"),
    ("pop.arrears", "欠费(元)", "Arrears (yuan)"),
    ("pop.tickets", "未结工单", "Open tickets"),
    ("pop.overdue", "超时", "overdue"),
    ("pop.recent", "近期来电", "Recent calls"),
    ("pop.fcr_yes", "一次解决", "resolved first time"),
    ("pop.fcr_no", "重复来电", "called again"),
    ("pop.ivr", "IVR路径", "IVR path"),
    ("pop.reason", "来电原因", "Reason"),
    ("call.talk", "通话时长", "Talk time"),
    ("call.notes", "通话记录", "Notes"),
    (
        "call.transfer_to",
        "转接到队列或工号",
        "Transfer to a queue or work number",
    ),
    ("bo.title", "后台工单", "Back office"),
    (
        "mine.title",
        "我的工单（首问负责）",
        "My tickets (first contact owns them)",
    ),
    ("mine.none", "暂无未关闭的工单", "No tickets waiting on you"),
    ("call.none", "当前无来电", "No call"),
    ("bo.filter_status", "状态", "Status"),
    ("bo.filter_kind", "类型", "Type"),
    ("bo.all", "全部", "All"),
    ("bo.count", "工单数", "Tickets"),
    ("bo.overdue_count", "已超时", "Overdue"),
    ("bo.overdue", "超时", "overdue by"),
    ("bo.left", "剩余", "due in"),
    ("bo.key_account", "大客户", "key account"),
    ("bo.taken_by", "处理人", "taken by"),
    ("bo.loading", "正在读取工单…", "Reading the worklist…"),
    (
        "bo.empty",
        "本组暂无待办工单",
        "No open tickets in this group",
    ),
    (
        "bo.choose",
        "请在左侧选择一张工单",
        "Pick a ticket on the left",
    ),
    ("bo.customer", "客户", "Customer"),
    ("bo.area", "地址", "Area"),
    ("bo.owner", "首问坐席", "Owner (first contact)"),
    ("bo.history", "处理记录", "History"),
    ("bo.take", "接单处理", "Take it"),
    ("bo.note_hint", "处理说明 / 备注", "What was done / a note"),
    ("bo.add_note", "添加备注", "Add note"),
    ("bo.pass", "转派", "Pass on"),
    ("ts.new", "新建", "new"),
    ("ts.dispatched", "已派单", "dispatched"),
    ("ts.in_progress", "处理中", "in progress"),
    ("ts.resolved", "已办结", "resolved"),
    ("ts.called_back", "已回访", "called back"),
    ("ts.closed", "已关闭", "closed"),
    ("ts.reopened", "重新开启", "reopened"),
    ("ts.unknown", "未知", "unknown"),
    ("ts.system", "系统", "system"),
    ("tc.opened", "受理登记", "opened"),
    ("tc.dispatch", "派单", "dispatched"),
    ("tc.start", "接单处理", "taken"),
    ("tc.resolve", "办结", "resolved"),
    ("tc.callback", "回访满意度", "called back, satisfaction"),
    ("tc.close", "关闭", "closed"),
    ("tc.reopen", "重新开启", "reopened"),
    ("tc.note", "备注", "note"),
    ("tc.priority", "调整优先级", "priority changed"),
    ("tc.no_answer", "回访未接通", "call-back not answered"),
    (
        "tc.unreachable",
        "多次回访未接通，关闭",
        "closed: customer unreachable",
    ),
    ("tc.linked", "并入区域障碍", "linked to area incident"),
    ("ticket.title", "工单", "Ticket"),
    ("ticket.kind", "类型", "Type"),
    ("ticket.subcategory", "子类", "Subcategory"),
    ("ticket.description", "描述", "Description"),
    ("ticket.priority", "优先级", "Priority"),
    ("ticket.back_office", "处理部门", "Back office"),
    (
        "ticket.add",
        "随整理提交此工单",
        "Open this ticket with the wrap-up",
    ),
    (
        "ticket.added",
        "将随整理提交",
        "will be opened with the wrap-up",
    ),
    ("ticket.update", "处理已有工单", "Work on an open ticket"),
    ("ticket.note", "追加备注", "Add a note"),
    ("ticket.resolve", "办结", "Resolve"),
    ("ticket.close", "回访后关闭", "Close (after callback)"),
    ("ticket.reopen", "重新开启", "Reopen"),
    (
        "ticket.update_text",
        "备注 / 处理结果 / 重开原因",
        "Note / what was done / why reopened",
    ),
    (
        "ticket.update_add",
        "随整理提交此处理",
        "Send this with the wrap-up",
    ),
    ("search.title", "客户查询", "Customer search"),
    ("search.hint", "按姓名查询", "Search by name"),
    ("search.none", "未找到客户", "No customer found"),
    ("wrap.title", "话后整理", "Wrap-up"),
    ("wrap.disposition", "处理结果", "Disposition"),
    ("wrap.reason", "来电原因", "Reason"),
    ("wrap.fcr", "首次来电已解决", "Resolved at first contact"),
    ("wrap.left", "整理剩余", "Wrap-up left"),
    (
        "wrap.required",
        "请填写处理结果和来电原因",
        "Fill in the disposition and the reason",
    ),
    ("shift.title", "本班统计", "My shift"),
    ("shift.calls", "接听", "Calls"),
    ("shift.aht", "平均处理时长", "AHT"),
    ("shift.fcr", "一次解决率", "FCR"),
    ("err.title", "提示", "Notice"),
    ("sup.title", "班长监控", "Supervisor wallboard"),
    ("sup.tab.board", "实时监控", "Wallboard"),
    ("sup.tab.reports", "统计报表", "Reports"),
    ("rep.intervals", "时段报表", "Intervals"),
    ("rep.agents", "坐席绩效", "Agents"),
    ("rep.hotspots", "投诉障碍热点", "Hot spots"),
    ("rep.reasons", "来电原因", "Reasons"),
    ("rep.tickets", "工单时效", "Tickets"),
    ("rep.today", "今天", "Today"),
    ("rep.yesterday", "昨天", "Yesterday"),
    ("rep.week", "近7天", "Last 7 days"),
    ("rep.month", "近30天", "Last 30 days"),
    ("rep.quarter", "近90天", "Last 90 days"),
    ("rep.refresh", "刷新", "Refresh"),
    ("rep.export", "导出CSV", "Export CSV"),
    ("rep.exported", "已导出：", "Exported to"),
    ("rep.rank_by", "排名依据", "Rank by"),
    ("rep.loading", "正在查询…", "Loading…"),
    (
        "rep.choose",
        "请选择报表和时段",
        "Choose a report and a period",
    ),
    ("rep.empty", "该时段没有数据", "Nothing in this period"),
    (
        "rep.more",
        "另有{n}行，导出CSV可见全部",
        "{n} more rows: export the CSV for all",
    ),
    ("rep.total", "合计", "Total"),
    ("rep.no_reason", "未注明原因", "no reason given"),
    (
        "rep.chart.intervals",
        "服务水平（绿线，红线为80%目标）与呼入量（蓝柱）",
        "Service level (green, target 80% red) and offered calls (blue bars)",
    ),
    ("rep.col.start", "时段", "Interval"),
    ("rep.col.offered", "呼入", "Offered"),
    ("rep.col.answered", "接听", "Answered"),
    ("rep.col.abandoned", "放弃", "Abandoned"),
    ("rep.col.sl", "服务水平", "SL"),
    ("rep.col.asa", "平均应答(秒)", "ASA s"),
    ("rep.col.aht", "平均处理(秒)", "AHT s"),
    ("rep.col.longest", "最长等待(秒)", "Longest s"),
    ("rep.col.staffed", "在线坐席", "Staffed"),
    ("rep.col.required", "需要坐席", "Required"),
    ("rep.col.agent", "坐席", "Agent"),
    ("rep.col.offers", "振铃", "Offers"),
    ("rep.col.rona", "未接", "RONA"),
    ("rep.col.occupancy", "占用率", "Occupancy"),
    ("rep.col.not_ready", "示忙(分)", "Not ready min"),
    ("rep.col.fcr_rate", "一次解决率", "FCR"),
    ("rep.col.transfers", "转接", "Transfers"),
    ("rep.col.satisfaction", "满意度", "Satisfaction"),
    ("rep.col.tickets_on_time", "工单及时率", "Tickets on time"),
    ("rep.col.district", "区县", "District"),
    ("rep.col.reports", "投诉障碍", "Reports"),
    ("rep.col.complaints", "投诉", "Complaints"),
    ("rep.col.faults", "障碍", "Faults"),
    ("rep.col.per_1000", "每千户", "Per 1,000"),
    ("rep.col.previous", "上期", "Previous"),
    ("rep.col.surprise", "异常度", "Surprise"),
    ("rep.col.top", "主要类别", "Top categories"),
    ("rep.col.reason", "原因", "Reason"),
    ("rep.col.contacts", "来电", "Contacts"),
    ("rep.col.handled", "人工处理", "Handled"),
    ("rep.col.fcr_claimed", "声明解决", "FCR claimed"),
    ("rep.col.repeat_rate", "重复来电率", "Repeat rate"),
    ("rep.col.group", "处理部门", "Group"),
    ("rep.col.kind", "类型", "Kind"),
    ("rep.col.opened", "受理", "Opened"),
    ("rep.col.resolved", "已处理", "Resolved"),
    ("rep.col.open", "未处理", "Open"),
    ("rep.col.overdue", "超时", "Overdue"),
    ("rep.col.on_time", "及时率", "On time"),
    ("rep.col.hours", "平均时长(时)", "Mean hours"),
    ("sup.queue", "队列", "Queue"),
    ("sup.waiting", "排队", "Waiting"),
    ("sup.longest", "最长等待", "Longest wait"),
    ("sup.sl", "服务水平", "Service level"),
    ("sup.asa", "平均应答", "ASA"),
    ("sup.aht", "平均处理", "AHT"),
    ("sup.abandon", "放弃率", "Abandoned"),
    ("sup.agents", "坐席", "Agents"),
    (
        "sup.agents_by_state",
        "就绪/通话/整理/未就绪",
        "Ready/Talking/Wrap-up/Not ready",
    ),
    ("sup.state", "状态", "State"),
    ("sup.since", "持续", "In state"),
    ("sup.force_not_ready", "强制示忙", "Force not ready"),
    ("sup.force_logout", "强制签出", "Force logout"),
    ("sup.advice", "建议", "Advice"),
    (
        "sup.advice_more",
        "再增{n}人可达{target}",
        "{n} more agents reach {target}",
    ),
    ("sup.back_office", "后台工单", "Back office tickets"),
    (
        "sup.store_down",
        "客户资料库连接中断：来电无弹屏，通话记录暂存于路由器",
        "Customer store unreachable: calls go on without screen pops, records wait at the router",
    ),
    ("sup.store_for", "已持续", "for"),
    ("sup.store_waiting", "暂存通话记录", "records waiting"),
    ("sup.open", "未结", "Open"),
    ("sup.due_soon", "临近时限", "Due soon"),
    ("sup.oldest_overdue", "超时最久", "Overdue longest"),
    ("sup.fcr", "首解 声称/核实", "FCR claimed/verified"),
    ("sup.overdue", "超时", "Overdue"),
    ("alarm.title", "告警", "Alarms"),
    (
        "alarm.service-level-below",
        "本时段服务水平低于",
        "service level this interval below",
    ),
    (
        "alarm.longest-wait-above",
        "最长等待超过",
        "longest wait above",
    ),
    ("alarm.waiting-above", "排队来电超过", "calls waiting above"),
    ("alarm.ready-below", "就绪坐席少于", "agents ready below"),
    (
        "alarm.abandon-rate-above",
        "本时段放弃率高于",
        "abandon rate this interval above",
    ),
    ("alarm.since", "起于", "since"),
    ("area.title", "区域障碍激增", "Fault surges by area"),
    ("inc.title", "区域障碍", "Area incidents"),
    ("inc.declare", "宣布障碍…", "Declare incident…"),
    ("inc.declared", "已宣布", "declared"),
    ("inc.draft", "宣布区域障碍", "Declare an area incident"),
    (
        "inc.message_zh",
        "中文通告（来电用户将听到）",
        "Message in Chinese (callers hear it)",
    ),
    ("inc.message_en", "英文通告", "Message in English"),
    ("inc.hours", "预计几小时后恢复", "Hours until restored"),
    ("inc.confirm", "确认宣布", "Declare"),
    ("inc.cancel", "取消", "Cancel"),
    ("inc.restore", "预计恢复", "expected back"),
    ("inc.by", "宣布", "declared by"),
    ("inc.auto", "系统自动", "the surge rule"),
    ("inc.linked", "并单", "tickets"),
    ("inc.asked", "待通知", "to be told"),
    ("inc.later", "延后1小时", "1 hour later"),
    ("inc.end", "结束（已修复）", "End (fixed)"),
    (
        "inc.bad_hours",
        "恢复时间须为0到336小时之间",
        "Hours must be above 0 and at most 336",
    ),
    (
        "inc.both_languages",
        "通告须有中英文两种",
        "The message needs both languages",
    ),
    ("area.calls", "次障碍来电 /", "fault calls in"),
    ("area.minutes", "分钟", "min"),
    ("area.usual", "通常", "usually"),
    ("alarm.seconds", "秒", "s"),
    (
        "sup.chart",
        "近一小时全部队列：排队数（蓝）与平均服务水平（绿）",
        "All queues, last hour: calls waiting (blue), mean service level (green)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        for (i, (k, zh, en)) in TEXTS.iter().enumerate() {
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
            assert!(
                TEXTS[i + 1..].iter().all(|(other, _, _)| other != k),
                "{k} twice"
            );
        }
        assert_eq!(Lang::Zh.t("state.ready"), "就绪");
        assert_eq!(Lang::En.t("state.ready"), "Ready");
        assert_eq!(Lang::En.t("no.such.key"), "no.such.key");
    }
}

#[cfg(test)]
mod font {
    /// No boxes: every character of every UI string is in the bundled font (the
    /// system's fonts are only a fallback for rare name characters).
    #[test]
    fn the_bundled_font_has_every_character_of_the_ui() {
        let face = ttf_parser::Face::parse(crate::FONT, 0).expect("the bundled font parses");
        let missing: String = super::TEXTS
            .iter()
            .flat_map(|(_, zh, en)| zh.chars().chain(en.chars()))
            .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "not in assets/fonts/hotline-cjk.ttf: {missing}"
        );
        // and the rare name characters the seeder uses
        for c in "喆堃玥".chars() {
            assert!(face.glyph_index(c).is_some(), "{c}");
        }
    }
}
