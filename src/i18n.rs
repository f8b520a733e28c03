//! The UI's words in English and 简体中文: typed tables whose keys have both languages
//! written side by side, so a key without a translation does not compile. Strings with values
//! use `{0}`, `{1}` placeholders, filled by [`trf`].
//!
//! - [`Text`] (here): the window's own words.
//! - [`messages`]: the engine's messages (notes, warnings, close reasons, start failures),
//!   rendered from their typed values in either language; their English is also their
//!   `Display`, which headless output and export print.
//! - [`errors`]: the codec's, spec's and file dialog's errors, rendered in either language.
//! - [`load`]: the Load test tab's words and its form's errors.

pub mod errors;
pub mod load;
mod message_words;
pub mod messages;
pub mod scenario;

pub use message_words::Msg;

use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// English (the default).
    #[default]
    English,
    /// 简体中文.
    Chinese,
}

impl Language {
    /// All languages, in menu order.
    pub const ALL: [Self; 2] = [Self::English, Self::Chinese];

    /// The language's own name, as shown in the menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::English => "English",
            Self::Chinese => "简体中文",
        }
    }

    /// The language a locale string names (`zh_CN.UTF-8` is Chinese, anything else English).
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Self::Chinese
        } else {
            Self::English
        }
    }

    /// The system locale's language, from `LC_ALL`, `LC_MESSAGES` or `LANG` (first set wins).
    pub fn from_environment() -> Self {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .map_or(Self::English, |locale| Self::from_locale(&locale))
    }
}

/// A key of one of the word tables: its English and Chinese strings.
pub trait Words: Copy {
    /// The English and Chinese strings.
    fn pair(self) -> [&'static str; 2];
}

/// Defines a table: an enum of keys (`$name`, documented by `$doc`), each with its English
/// and Chinese strings, `ALL` keys, and [`Words`].
macro_rules! texts {
    ($(#[doc = $doc:literal])* $name:ident { $($key:ident => $en:literal, $zh:literal;)* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = $en]
                $key,
            )*
        }

        impl $name {
            /// Every key.
            pub const ALL: &'static [$name] = &[$($name::$key,)*];
        }

        impl $crate::i18n::Words for $name {
            fn pair(self) -> [&'static str; 2] {
                match self {
                    $($name::$key => [$en, $zh],)*
                }
            }
        }
    };
}
pub(crate) use texts;

texts! {
/// A UI string's key.
Text {
    // Settings
    Settings => "Settings", "设置";
    EditSession => "Edit…", "编辑…";
    EditKind => "Edit {0}", "编辑 {0}";
    Apply => "Apply", "应用";
    Theme => "Theme", "主题";
    ThemeSystem => "Follow system", "跟随系统";
    ThemeLight => "Light", "浅色";
    ThemeDark => "Dark", "深色";
    LanguageLabel => "Language", "语言";
    // Session list
    CreateKind => "Create {0}", "新建 {0}";
    NewKind => "New {0}", "新建 {0}";
    LocalIp => "Local IP", "本地 IP";
    RemoteHost => "Remote host", "远程主机";
    GroupAddress => "Group", "组播地址";
    Options => "Options", "选项";
    ClientReconnect => "Reconnect automatically", "自动重连";
    ClientReconnectTip => "When the connect fails or the server closes the connection, connect again every second until the session is stopped (the option reconnect; reconnect=MS for another interval); sends meanwhile are refused", "连接失败或服务器关闭连接时，每秒重新连接一次，直到停止会话（选项 reconnect；reconnect=毫秒数 可改间隔）；期间的发送会被拒绝";
    OptionsTip => "Comma-separated, as in a session spec: {0}", "逗号分隔，写法同会话描述：{0}";
    MoreKinds => "More transports…", "更多协议…";
    MoreKindsTip => "UDP multicast group, TLS and WebSocket sessions", "UDP 组播、TLS 与 WebSocket 会话";
    Port => "Port", "端口";
    // A serial port's create form and control lines
    SerialPath => "Serial port", "串口";
    SerialPathTip => "The port's path as the system names it (/dev/ttyUSB0, COM3); any path can be typed, a pseudo-terminal's too", "系统中的串口路径（/dev/ttyUSB0、COM3）；可输入任意路径，伪终端也可以";
    ListedPorts => "Ports found", "已发现的串口";
    ListedPortsTip => "The ports the system lists; pick one to fill in its path", "系统列出的串口；选择一个即可填入其路径";
    NoPortsListed => "none listed", "未发现串口";
    ListingPorts => "listing…", "正在列出…";
    RefreshPorts => "Refresh", "刷新";
    RefreshPortsTip => "List the system's serial ports again (after plugging in an adapter)", "重新列出系统的串口（插入转接器后）";
    BaudRate => "Baud rate", "波特率";
    CommonBauds => "Common rates", "常用波特率";
    BaudTip => "Bits per second: pick a common rate or type any other", "每秒位数：选择常用值或输入其他值";
    DataBitsLabel => "Data bits", "数据位";
    ParityLabel => "Parity", "校验位";
    ParityNone => "None", "无";
    ParityOdd => "Odd", "奇校验";
    ParityEven => "Even", "偶校验";
    StopBitsLabel => "Stop bits", "停止位";
    FlowLabel => "Flow control", "流控";
    FlowNone => "None", "无";
    FlowRtsCts => "RTS/CTS (hardware)", "RTS/CTS（硬件）";
    FlowXonXoff => "XON/XOFF (software)", "XON/XOFF（软件）";
    SerialReconnect => "Reopen when the device comes back", "设备重新出现时重新打开";
    SerialReconnectTip => "When the device goes away (unplugged), wait for its path and open it again instead of ending the session", "设备断开（被拔出）时，等待其路径重新出现并再次打开，而不是结束会话";
    ControlLines => "Lines", "信号线";
    DtrTip => "Data Terminal Ready: raise or drop it (some boards reset when it drops)", "数据终端就绪（DTR）：拉高或拉低（有些开发板在其拉低时复位）";
    RtsTip => "Request To Send: raise or drop it", "请求发送（RTS）：拉高或拉低";
    InputLineOn => "{0} is on", "{0} 为高";
    InputLineOff => "{0} is off", "{0} 为低";
    InputLinesUnknown => "CTS DSR CD RI: none", "CTS DSR CD RI：无";
    InputLinesUnknownTip => "This port reports no modem lines (a pseudo-terminal has none)", "此串口不报告调制解调器信号线（伪终端没有）";
    SendBreak => "Send break", "发送中断信号";
    SendBreakTip => "Hold the line at space for {0} ms (a UART break)", "将线路保持为空号 {0} 毫秒（UART 中断信号）";
    PortListFailed => "the serial ports could not be listed ({0})", "无法列出串口（{0}）";
    Create => "Create", "创建";
    Cancel => "Cancel", "取消";
    Connect => "Connect", "连接";
    Disconnect => "Disconnect", "断开";
    Start => "Start", "启动";
    Stop => "Stop", "停止";
    Delete => "Delete", "删除";
    Duplicate => "Duplicate", "复制";
    Rename => "Rename…", "重命名…";
    RenameDone => "OK", "确定";
    NameHint => "display name (empty: the address)", "显示名称（留空则显示地址）";
    ClientsCount => "{0} client{|s}", "{0} 个客户端";
    PeersCount => "{0} peer{|s}", "{0} 个对端";
    ConnectionsTotal => "{0} connected, {1} in total", "当前 {0} 个连接，累计 {1} 个";
    EverConnected => " ({0} in total)", "（累计 {0} 个）";
    Close => "Close", "关闭";
    CloseTip => "Disconnect this client", "断开此客户端";
    Forget => "Forget", "忘记";
    ForgetTip => "Forget this peer", "忘记此对端";
    NewSessionTip => "New session (Ctrl+N)", "新建会话（Ctrl+N）";
    DeleteTip => "Delete this session (Delete key)", "删除此会话（Delete 键）";
    DeleteSession => "Delete session", "删除会话";
    ConfirmDeleteTitle => "Delete session?", "删除会话？";
    ConfirmDeleteBody => "Delete {0}? Its log is discarded.", "删除 {0}？其日志将被清除。";
    KindTcpServer => "TCP Server", "TCP 服务器";
    KindTcpClient => "TCP Client", "TCP 客户端";
    KindUdpServer => "UDP Server", "UDP 服务器";
    KindUdpClient => "UDP Client", "UDP 客户端";
    KindUdpGroup => "UDP Group", "UDP 组播";
    KindTlsServer => "TLS Server", "TLS 服务器";
    KindTlsClient => "TLS Client", "TLS 客户端";
    KindWsServer => "WebSocket Server", "WebSocket 服务器";
    KindWsClient => "WebSocket Client", "WebSocket 客户端";
    KindRelay => "TCP Relay", "TCP 中继";
    KindUdpRelay => "UDP Relay", "UDP 中继";
    KindSerial => "Serial Port", "串口";
    StateStopped => "stopped", "已停止";
    StateConnecting => "connecting…", "连接中…";
    StateStarting => "starting…", "启动中…";
    StateOpeningPort => "opening the port…", "正在打开串口…";
    StateListening => "listening on {0}", "正在监听 {0}";
    StateConnectedFrom => "connected from {0}", "已连接，本机 {0}";
    StateBound => "bound to {0}", "已绑定 {0}";
    StateReady => "ready on {0}", "就绪，本机 {0}";
    StateJoined => "joined, bound to {0}", "已加入组播，绑定 {0}";
    StateOpen => "port open", "串口已打开";
    StateFailed => "failed: {0}", "失败：{0}";
    StateEnded => "disconnected: {0}", "已断开：{0}";
    RenameTip => "Double-click or right-click to rename", "双击或右键可重命名";
    // Notices
    Dismiss => "Dismiss", "关闭";
    // Status bar
    SessionsCount => "{0} session{|s}", "{0} 个会话";
    Totals => "RX {0}  TX {1}", "接收 {0}  发送 {1}";
    PeerCounters => "RX {0} · TX {1}", "收 {0} · 发 {1}";
    Rates => "RX {0}/s  TX {1}/s", "接收 {0}/s  发送 {1}/s";
    LogHeld => "log: {0} entr{y|ies} held ({1}), {2} dropped", "日志：保留 {0} 条（{1}），丢弃 {2} 条";
    // Empty state
    NoSession => "No session selected", "未选择会话";
    FirstRunHint => "Create one on the left: a TCP Server on port 6001, then connect to it with", "在左侧新建一个会话：例如端口 6001 的 TCP 服务器，然后用以下命令连接";
    FirstRunHint2 => "or  nc 127.0.0.1 6001  and type: every byte shows up here.", "或  nc 127.0.0.1 6001  并输入：每个字节都会显示在这里。";
    FromDevice => "From another device, use one of this machine's addresses:", "从其他设备连接时，请使用本机的以下地址之一：";
    NoAddresses => "no network addresses found", "未找到网络地址";
    Shortcuts => "Shortcuts", "快捷键";
    ShortcutNewSession => "new session", "新建会话";
    ShortcutSend => "send", "发送";
    ShortcutClearLog => "clear log", "清空日志";
    ShortcutSearch => "search", "搜索";
    ShortcutRemoveSession => "remove session", "删除会话";
    // Send box
    HexSend => "Hex send", "十六进制发送";
    HexSendTip => "Type bytes as hex (31 32 33) instead of text", "以十六进制输入字节（31 32 33），而非文本";
    Escapes => "Escapes", "转义";
    EncodeAs => "Send as", "发送编码";
    SplitEncoding => "Own send encoding", "发送用单独编码";
    SplitEncodingTip => "Encode what is sent with another encoding than the log's (rarely needed)", "发送时使用与日志不同的编码（很少需要）";
    LineEnd => "Line end", "行尾";
    Checksum => "Checksum", "校验";
    Send => "Send", "发送";
    SendTip => "Send (Ctrl+Enter)", "发送（Ctrl+Enter）";
    StartToSend => "Start the session to send", "启动会话后才能发送";
    Tools => "Tools", "工具";
    ToolsTip => "Show or hide the settings column: log, sending, commands, auto-reply, save", "显示或隐藏设置栏：日志、发送选项、指令、自动回复、保存";
    ClosePanel => "Hide", "隐藏";
    TabLog => "Log", "日志";
    TabSending => "Sending", "发送选项";
    TabCommands => "Commands", "指令";
    TabAutoReply => "Auto-reply", "自动回复";
    TabSave => "Save", "保存";
    TabRelay => "Relay", "中继";
    RelayTo => "Each client is relayed to {0}", "每个客户端都被中继到 {0}";
    RelayHold => "Hold", "暂停";
    RelayHoldTip => "Stop forwarding this direction: what is read queues (bounded) until released or stepped", "暂停转发此方向：读到的数据排队（有上限），直到放行或单步";
    RelayRelease => "Release", "放行";
    RelayReleaseTip => "Forward what is held, and everything after it", "转发已暂停的数据及之后的一切";
    RelayStep => "Step", "单步";
    RelayStepTip => "Forward one held chunk (of the pair chosen in To:, or of every pair)", "转发一个暂停的数据块（“发送到”所选的连接对，或每个连接对）";
    RelayHeld => "held: {0} chunk{|s}, {1}", "已暂停：{0} 块，{1}";
    RelayFlowing => "forwarding", "正在转发";
    RelayFaults => "Faults", "故障";
    RelayFaultsInForce => "In force: {0}", "生效中：{0}";
    RelayNoFaults => "no faults", "无故障";
    RelayFaultsTip => "Fault words as in the spec, for both directions or one (up. / down.): {0}. Applied to every pair from its next chunk on", "与会话描述中的写法相同，作用于两个方向或其一（up. / down.）：{0}。从每个连接对的下一个数据块起生效";
    RelayApply => "Apply", "应用";
    InjectLabel => "Inject:", "注入：";
    InjectUp => "-> to target", "-> 发往目标";
    InjectDown => "<- to client", "<- 发往客户端";
    InjectTip => "Send writes into the pair as if that side had sent it (logged as injected)", "发送的数据写入连接对，如同来自另一侧（日志中标为注入）";
    PairCounters => "-> {0} · <- {1}", "上行 {0} · 下行 {1}";
    TabScenarios => "Scenarios", "场景";
    // Scenarios tab
    ScenarioFile => "Scenario file", "场景文件";
    ScenarioBrowseTip => "Choose a scenario file", "选择场景文件";
    ScenarioOpen => "Open", "打开";
    ScenarioSave => "Save file", "保存文件";
    ScenarioEditorHint => "one statement a line: session, send, expect, … (docs/scenarios.md)", "一行一条语句：session、send、expect……（见 docs/scenarios.md）";
    ScenarioVars => "Variables", "变量";
    ScenarioVarsTip => "Values for ${NAME} in the file and in sends (send box, quick commands, periodic): NAME=VALUE, separated by spaces", "文件和发送（发送框、快捷指令、定时发送）中 ${NAME} 的值：名称=值，用空格分隔";
    ScenarioMoreErrors => "… and {0} more", "……还有 {0} 个错误";
    ScenarioOnSelected => "Run on the selected session", "在选中的会话上运行";
    ScenarioOnNew => "Run on new sessions (the file's session lines)", "在新会话上运行（文件中的 session 行）";
    ScenarioRun => "Run", "运行";
    ScenarioStop => "Stop run", "停止运行";
    ScenarioSavedTo => "saved to {0}", "已保存到 {0}";
    ScenarioRunning => "running (run {0})", "运行中（第 {0} 次）";
    ScenarioEnded => "ended", "已结束";
    ScenarioAgainst => " against {0}", "，对端 {0}";
    ScenarioSummary => "{0} passed, {1} failed", "{0} 个通过，{1} 个失败";
    ScenarioRefused => "could not run: {0}", "无法运行：{0}";
    ScenarioReceived => "received {0} instead:", "实际收到 {0}：";
    ScenarioFileError => "cannot use {0}: {1}", "无法使用 {0}：{1}";
    ScenarioNoSession => "select a session first, or run on new sessions", "请先选中一个会话，或在新会话上运行";
    ScenarioManySessions => "the file opens {0} sessions: run it on new sessions", "文件声明了 {0} 个会话：请在新会话上运行";
    ScenarioNoSessionLine => "the file has no session line: add one (session tcp-client:HOST:PORT) or run it on the selected session", "文件中没有 session 行：请添加一行（session tcp-client:主机:端口），或在选中的会话上运行";
    SaveAsScenario => "Save as scenario", "另存为场景";
    SaveAsScenarioTip => "The selected entries as send and expect lines in the Scenarios tab", "把选中的条目写成 send 和 expect 行，放进“场景”标签页";
    SendOptions => "Send options", "发送设置";
    PeriodicSend => "Periodic send", "定时发送";
    FileSend => "Send a file", "发送文件内容";
    Display => "Display", "显示方式";
    Show => "Show", "显示";
    WrapRows => "Wrap long rows", "长行自动换行";
    WrapRowsTip => "Show every byte of a long row on more lines instead of ending it in …", "长行分多行显示全部内容，而不是以 … 结尾";
    EncodingTip => "The session's encoding: decodes the log and encodes what you send", "会话的编码：用于解码日志和编码发送的内容";
    FilterOn => "Filter: {0} rows", "过滤：{0} 行";
    FilterOnTip => "A filter hides rows: change it in the Log tab", "过滤器隐藏了部分行：在“日志”标签页修改";
    FramingTip => "How reads are cut into rows: change it in the Log tab", "如何把读取的数据切分成行：在“日志”标签页修改";
    FramingSummary => "Framing: {0}", "分帧：{0}";
    SearchHint => "Search", "搜索";
    HideSessions => "Hide the session list", "隐藏会话列表";
    ShowSessions => "Show the session list", "显示会话列表";
    ChoosePeerTip => "Send to this client only", "只发送给此客户端";
    TextSize => "Text size", "文字大小";
    LogOnDisk => "Log on disk", "日志存盘";
    LogSpillOn => "Keep what memory cannot hold on disk", "内存放不下的部分保存到磁盘";
    LogSpillOnTip => "A session keeps its last 512 MiB in memory; with this on, older traffic goes to files in the cache directory (deleted with the session and when sockdbg exits) instead of being dropped", "每个会话在内存中保留最近的 512 MiB；开启后，更早的流量写入缓存目录中的文件（删除会话或退出 sockdbg 时删除），而不是丢弃";
    SpillQuota => "Disk per session:", "每个会话的磁盘上限：";
    DiskWait => "waiting for the log's disk: no traffic taken for {0} s", "等待日志写入磁盘：已 {0} 秒未接收数据";
    DiskWaitHint => "A log that keeps traffic on disk is behind: the disk is slow, busy or stuck (a network drive). Until it catches up the window takes no traffic in: TCP peers are held back by flow control and lose nothing; UDP datagrams the system cannot queue are dropped (and counted). Settings > \"Keep what memory cannot hold on disk\" off keeps logs in memory only.", "一个保存到磁盘的日志跟不上：磁盘缓慢、繁忙或卡住（如网络驱动器）。在它赶上之前，窗口暂停接收数据：TCP 对端由流量控制挡住，不丢数据；系统来不及排队的 UDP 数据报会被丢弃（并计数）。在设置中关闭“内存放不下的部分保存到磁盘”，日志只保存在内存中。";
    LogDiskFull => "disk full:", "磁盘已满：";
    LogDiskFullHint => "The disk this log spills to filled up. Since then the log keeps what fits there, dropping its oldest entries to make room (counted as dropped). Free some space, or lower \"Disk per session\" in Settings.", "此日志保存到的磁盘已满。此后日志只保留磁盘能容纳的部分，丢弃最早的记录腾出空间（计入丢弃数）。请释放磁盘空间，或在设置中调低“每个会话的磁盘上限”。";
    LogHeldSpilled => "log: {0} entr{y|ies} held ({1} in memory, {3} on disk in {4} of files), {2} dropped", "日志：保留 {0} 条（内存 {1}，磁盘 {3}，文件占 {4}），丢弃 {2} 条";
    TextSizeKeys => "Ctrl+Plus / Ctrl+Minus / Ctrl+0", "Ctrl+加号 / Ctrl+减号 / Ctrl+0";
    PointSize => "{0} pt", "{0} 磅";
    Smaller => "Smaller text", "缩小文字";
    Bigger => "Bigger text", "放大文字";
    SmallerTip => "Smaller text (Ctrl+Minus)", "缩小文字（Ctrl+减号）";
    BiggerTip => "Bigger text (Ctrl+Plus)", "放大文字（Ctrl+加号）";
    DefaultSize => "Default", "默认";
    HexHint => "hex bytes, e.g. 31 32 33 or 0x31 0x32 (Up/Down: history)", "十六进制字节，如 31 32 33 或 0x31 0x32（上/下键：历史）";
    TextHint => "text to send (Up/Down: history)", "要发送的文本（上/下键：历史）";
    ClearText => "Clear text", "清空文本";
    To => "To:", "发往：";
    // Send tools
    QuickCommands => "Quick commands", "快捷指令";
    OnConnect => "On connect", "连接时发送";
    SendOnConnect => "Send to each new client / on connect", "向每个新客户端发送 / 连接后发送";
    Payload => "Payload", "内容";
    AutoReply => "Auto-reply", "自动回复";
    AddRule => "Add rule", "添加规则";
    AddToSession => "Add to session", "添加到本会话";
    AddToSessionTip => "Save the send box's content and settings as a quick command of this session", "将发送框的内容和设置保存为本会话的快捷指令";
    AddGlobal => "Add global", "添加为全局";
    AddGlobalTip => "Save the send box's content as a quick command of every session", "将发送框的内容保存为所有会话的快捷指令";
    RonFile => "RON file", "RON 文件";
    Import => "Import", "导入";
    Export => "Export", "导出";
    Global => "Global", "全局";
    ThisSession => "This session", "本会话";
    NoneYet => "none yet", "暂无";
    Edit => "Edit", "编辑";
    Up => "Up", "上移";
    Down => "Down", "下移";
    Name => "Name", "名称";
    Done => "Done", "完成";
    WhenData => "when data", "当数据";
    Pattern => "pattern", "模式";
    ReplyLabel => "reply", "回复";
    TextLabel => "text", "文本";
    HexBytes => "Hex bytes", "十六进制";
    TextAs => "Text as", "编码";
    EndsWith => "Ends with", "行尾";
    Check => "Check", "校验";
    Every => "Every", "每隔";
    MsTimes => "ms, times", "毫秒，次数";
    StartPeriodic => "Start periodic", "开始定时发送";
    StopPeriodic => "Stop periodic", "停止定时发送";
    FileLabel => "File", "文件";
    Browse => "Browse…", "浏览…";
    SendFile => "Send file", "发送文件";
    CancelFile => "Cancel file", "取消文件发送";
    StartFirst => "Start the session first", "请先启动会话";
    FileHint => "path of a file to send", "要发送的文件路径";
    IntervalTip => "Interval in milliseconds (at least 1)", "间隔毫秒数（至少 1）";
    TimesTip => "How many sends; 0 sends until stopped", "发送次数；0 表示一直发送直到停止";
    PeriodicTip => "Send the send box's content repeatedly; the engine keeps the time", "重复发送发送框的内容，由引擎计时";
    FileTip => "Stream the file in chunks; the UI stays responsive", "分块发送文件，界面保持响应";
    BrowseTip => "Native file dialog (through the desktop portal); if none opens, type the path", "系统文件对话框（通过桌面门户）；若未打开，请直接输入路径";
    EscapesTip => "Replace \\r \\n \\t \\\\ \\0 and \\xNN (one raw byte) in the text", "替换文本中的 \\r \\n \\t \\\\ \\0 和 \\xNN（一个原始字节）";
    Rule => "Rule {0}", "规则 {0}";
    SendPayloadTip => "Send: {0}", "发送：{0}";
    Several => "Several:", "多个：";
    AllClients => "All clients", "所有客户端";
    AllPeers => "All peers", "所有对端";
    SendToTarget => "{0} (target)", "{0}（目标）";
    SendToGroup => "{0} (group)", "{0}（组播组）";
    AlsoPeer => "also {0}", "同时发往 {0}";
    PlaceholderHelp => "In a text reply, {data} is the received text (one trailing line ending removed), {upper} and {lower} the same in upper or lower case. Examples: anything => {upper} (upper-case echo); anything => Hello, {data}!", "文本回复中，{data} 为收到的文本（去掉末尾一个换行），{upper} 和 {lower} 为其大写或小写形式。示例：任意数据 => {upper}（大写回显）；任意数据 => Hello, {data}!";
    NoLineEnding => "No line ending", "无行尾";
    NoChecksum => "No checksum", "无校验";
    // Log
    Entries => "{0} entr{y|ies}", "{0} 条";
    EntriesDropped => "{0} entr{y|ies} ({1} dropped)", "{0} 条（丢弃 {1} 条）";
    TextMode => "Text", "文本";
    HexMode => "Hex", "十六进制";
    Encoding => "Encoding", "编码";
    Time => "Time", "时间";
    TimeOff => "Off", "关";
    TimeAbsolute => "Absolute", "绝对";
    TimeRelative => "Relative", "相对";
    AutoScroll => "Auto-scroll", "自动滚动";
    Pause => "Pause", "暂停";
    Resume => "Resume", "继续";
    PauseTip => "Freeze the rows shown; capture goes on", "冻结显示的行；抓包继续";
    Clear => "Clear", "清空";
    Statistics => "Statistics", "统计";
    Framing => "Framing", "分帧";
    Filter => "Filter", "过滤";
    FilterAsHex => "Filter as hex", "按十六进制过滤";
    DirAll => "All", "全部";
    RxOnly => "RX only", "仅接收";
    TxOnly => "TX only", "仅发送";
    Peer => "Peer", "对端";
    Search => "Search", "搜索";
    SearchAsHex => "Search as hex", "按十六进制搜索";
    Previous => "Previous", "上一个";
    Next => "Next", "下一个";
    CaptureAndExport => "Capture and export", "抓包与导出";
    StartCapture => "Start capture", "开始抓包";
    StopCapture => "Stop capture", "停止抓包";
    ExportLog => "Export log", "导出日志";
    CopyHex => "Copy hex", "复制十六进制";
    CopyText => "Copy text", "复制文本";
    CopyDump => "Copy dump", "复制转储";
    ClearLogTip => "Clear the log (Ctrl+L)", "清空日志（Ctrl+L）";
    SearchTip => "Search the log (Ctrl+F)", "搜索日志（Ctrl+F）";
    // Log rows and entry kinds
    KindRx => "RX", "收";
    KindTx => "TX", "发";
    InvalidTag => "[invalid] ", "[无效] ";
    InjectedTag => "[injected] ", "[注入] ";
    UpOnly => "-> up only", "-> 仅上行";
    DownOnly => "<- down only", "<- 仅下行";
    IncompleteTag => "[incomplete] ", "[不完整] ";
    ReadsTag => "[{0} reads] ", "[{0} 次读取] ";
    NewWhilePaused => "{0} new", "{0} 条新数据";
    RowsShown => "{0} row{|s} shown", "显示 {0} 行";
    MatchPosition => "{0} of {1} matches", "第 {0} 个，共 {1} 个匹配";
    Matches => "{0} match{|es}", "{0} 个匹配";
    PatternError => "{0}", "过滤或搜索内容无效：{0}";
    Capturing => "capturing to {0} ({1} packets)", "正在抓包到 {0}（{1} 个包）";
    // Detail pane
    ReceivedFrom => "received from", "接收自";
    SentTo => "sent to", "发送至";
    DetailNote => "note", "提示";
    DetailNoteAbout => "note about {0}", "关于 {0} 的提示";
    DetailProblem => "problem", "问题";
    DetailProblemAbout => "problem about {0}", "关于 {0} 的问题";
    ReadsSuffix => "  ·  {0} reads", "  ·  {0} 次读取";
    SkippedResync => "skipped while resynchronizing: {0}", "重新同步时跳过：{0}";
    ContinuesDetail => "these bytes begin a character that the next bytes complete: it shows in the next row", "这些字节是一个字符的开头，由后面的字节补全：该字符显示在下一行";
    IncompleteDetail => "not a whole frame: the stream or the send ended first", "不是完整的帧：连接或这次发送先结束了";
    CopyC => "Copy C", "复制为 C 数组";
    CopyPython => "Copy Python", "复制为 Python";
    FirstShown => "… first {0} shown", "… 仅显示前 {0}";
    FirstOfShown => "… first {0} of {1} shown", "… 仅显示前 {0}（共 {1}）";
    SelectionSummary => "{0} entries  ·  RX {1}  ·  TX {2}", "{0} 条  ·  接收 {1}  ·  发送 {2}";
    SelectionLimited => "  ·  first {0} shown ({1} limit)", "  ·  仅显示前 {0} 条（上限 {1}）";
    // Statistics
    StatisticsOf => "Statistics: {0}", "统计：{0}";
    StatRx => "RX", "接收";
    StatTx => "TX", "发送";
    StatBytes => "Bytes", "字节";
    StatPackets => "Packets", "包数";
    StatRate => "Rate", "速率";
    Seconds => "seconds", "秒";
    BytesPerSecond => "bytes/s", "字节/秒";
    PerPeer => "Per peer", "各对端";
    PeerGone => "{0} (gone)", "{0}（已断开）";
    PeerStat => "{0} in {1} · {2}", "{0}，{1} 个包 · {2}";
    // Framing
    FramingRaw => "Raw reads", "原始读取";
    FramingIdle => "Idle gap", "空闲间隔";
    FramingDelimiter => "Delimiter", "分隔符";
    FramingFixed => "Fixed length", "固定长度";
    FramingLength => "Length prefix", "长度前缀";
    RawReadsHint => "each read as it came", "每次读取各为一行";
    GapMs => "Gap ms", "间隔（毫秒）";
    DelimiterHex => "Delimiter hex", "分隔符（十六进制）";
    KeepDelimiter => "Keep delimiter", "保留分隔符";
    MaxFrame => "Max", "最大帧长";
    FixedBytes => "Bytes", "字节数";
    LengthField => "Field", "长度字段";
    Offset => "Offset", "偏移";
    IncludesHeader => "Length includes header", "长度含头部";
    Pending => "{0} B pending", "{0} B 待成帧";
    PendingTip => "Bytes received that do not complete a frame yet", "已接收但尚未组成完整帧的字节";
    MustBeNumber => "{0} must be a number", "{0}必须是数字";
    TheGap => "the gap", "间隔";
    TheMax => "max", "最大帧长";
    TheLength => "the length", "长度";
    TheOffset => "the offset", "偏移";
    DelimiterError => "delimiter: {0}", "分隔符：{0}";
    DelimiterEmpty => "the delimiter is empty", "分隔符为空";
    LengthAtLeastOne => "the length must be at least 1", "长度至少为 1";
    OffsetTooLarge => "the offset is too large", "偏移过大";
    SavedFramingUnused => "Saved framing was not used: {0}", "未使用已保存的分帧设置：{0}";
    // Capture and export
    ExportAs => "Export as", "导出格式";
    FormatText => "Text", "文本";
    FormatHexDump => "Hex dump", "十六进制转储";
    FormatJsonl => "JSON lines", "JSON 行 (jsonl)";
    FormatRawRx => "Raw bytes received", "接收的原始字节";
    FormatRawTx => "Raw bytes sent", "发送的原始字节";
    FilteredOnly => "Filtered rows only", "仅导出过滤后的行";
    ExportFile => "Export file", "导出文件";
    ChooseExportFile => "Choose export file…", "选择导出文件…";
    CancelExport => "Cancel export", "取消导出";
    Exported => "exported {0} row{|s} to {1}", "已导出 {0} 行到 {1}";
    ExportThreadPanicked => "the export thread panicked", "导出线程崩溃";
    ExportNoResult => "the export ended without a result", "导出结束但没有结果";
    CaptureFile => "Capture file", "抓包文件";
    ChooseCaptureFile => "Choose capture file…", "选择抓包文件…";
    CaptureTip => "Write every byte, both ways, to a pcapng file for Wireshark", "将双向的每个字节写入 pcapng 文件，可用 Wireshark 打开";
    SaveAs => "Save as", "另存为";
    DialogUnavailable => "no file dialog could open here (no desktop portal?); type the path instead", "此处无法打开文件对话框（没有桌面门户？），请直接输入路径";
    DialogThreadFailed => "cannot open a file dialog ({0}); type the path instead", "无法打开文件对话框（{0}）；请直接输入路径";
    // Send box and tools
    LargeText => "{0} bytes of text: too large to edit here (paste appends)", "文本共 {0} 字节：太大，无法在此编辑（粘贴会追加）";
    LargeAllSelected => "all selected: a paste replaces it", "已全选：粘贴将替换全部文本";
    PreviewByte => "{0} byte: {1}", "{0} 字节：{1}";
    PreviewBytes => "{0} byte{|s}: {1}", "{0} 字节：{1}";
    PreviewNextSeq => "  (next send: ${seq} = {0})", "（下次发送：${seq} = {0}）";
    InvalidHex => "invalid hex: {0}", "十六进制无效：{0}";
    HexNotDigit => "'{0}' at column {1} is not a hex digit", "第 {1} 列的“{0}”不是十六进制数字";
    HexOddDigits => "'{0}' at column {1} has an odd number of hex digits", "第 {1} 列的“{0}”十六进制位数为奇数";
    BadEscape => "bad escape: {0}", "转义错误：{0}";
    EscapeUnknown => "unknown escape '\\{0}' at column {1} (use \\r \\n \\t \\\\ \\0 or \\xNN)", "第 {1} 列的转义“\\{0}”无法识别（可用 \\r \\n \\t \\\\ \\0 或 \\xNN）";
    EscapeBadHex => "'\\x' at column {0} needs two hex digits, e.g. \\x0D", "第 {0} 列的“\\x”后需两位十六进制数字，如 \\x0D";
    EscapeTrailing => "lone '\\' at column {0} (write \\\\ for a backslash)", "第 {0} 列的“\\”后面没有字符（反斜杠请写作 \\\\）";
    CannotEncode => "'{0}' (U+{1}) at position {2} cannot be encoded as {3}", "第 {2} 个字符“{0}”（U+{1}）无法用 {3} 编码";
    NothingToSend => "nothing to send: the send box is empty", "没有可发送的内容：发送框为空";
    JobRunning => "running", "进行中";
    JobDone => "done", "完成";
    JobStopped => "stopped", "已停止";
    JobFailed => "failed: {0}", "失败：{0}";
    PeriodicProgress => "{0} / {1} sent ({2})", "已发送 {0} / {1} 次（{2}）";
    PeriodicProgressOpen => "{0} sent ({1})", "已发送 {0} 次（{1}）";
    FileProgress => "{0} / {1} bytes ({2})", "{0} / {1} 字节（{2}）";
    FileProgressOpen => "{0} bytes ({1})", "{0} 字节（{1}）";
    TargetGone => "#{0} (gone)", "#{0}（已断开）";
    Unnamed => "(unnamed)", "（未命名）";
    DefaultCommandName => "command", "指令";
    PatternHex => "hex", "十六进制";
    MatchAny => "anything", "任意数据";
    MatchExact => "exactly", "完全等于";
    MatchContains => "contains", "包含";
    MatchStartsWith => "starts with", "开头为";
    MatchRegex => "regex", "正则";
    ReplySend => "send", "发送";
    ReplyEcho => "echo", "回显";
    RuleErrorText => "auto-reply rule {0}: {1}", "自动回复规则 {0}：{1}";
    RegexOnHex => "a regex matches text, not hex", "正则只能匹配文本，不能匹配十六进制";
    InvalidRegex => "invalid regex: {0}", "正则表达式无效：{0}";
    InvalidHexPattern => "invalid hex pattern: {0}", "十六进制模式无效：{0}";
    ReplyError => "reply: {0}", "回复：{0}";
    CaptureFileError => "capture file {0}: {1}", "抓包文件 {0}：{1}";
    OnConnectError => "on-connect payload: {0}", "连接时发送的内容：{0}";
    QuickCommandError => "quick command '{0}': {1}", "快捷指令“{0}”：{1}";
    CannotExportTo => "cannot export to {0}: {1}", "无法导出到 {0}：{1}";
    CannotImport => "cannot import {0}: {1}", "无法导入 {0}：{1}";
    FileToSend => "File to send", "选择要发送的文件";
    ChooseFileFirst => "choose a file to send first", "请先选择要发送的文件";
    BadInterval => "interval: a whole number of milliseconds, at least 1", "间隔：须为整数毫秒，至少 1";
    BadCount => "count: a whole number (0 sends until stopped)", "次数：须为整数（0 表示一直发送直到停止）";
    // Notices and forms
    SavedSessionSkipped => "Saved session '{0}' was skipped: {1}", "已跳过保存的会话“{0}”：{1}";
    ConfigMovedAside => "Settings file {0} was not used: {1}. It was moved to {2}; starting with defaults.", "未使用设置文件 {0}：{1}。它已被移到 {2}；将以默认设置启动。";
    ConfigKeptInPlace => "Settings file {0} was not used: {1}. It could not be moved aside ({2}); settings will not be saved over it.", "未使用设置文件 {0}：{1}。无法将它移开（{2}）；设置不会覆盖它。";
    ConfigUnreadable => "cannot read it ({0})", "无法读取（{0}）";
    ConfigNewer => "it was written by a newer sockdbg (version {0})", "它由更新版本的 sockdbg 写入（版本 {0}）";
    ConfigInvalid => "it is not valid ({0})", "内容无效（{0}）";
    SaveFailedAt => "cannot save settings to {0}: {1}", "无法保存设置到 {0}：{1}";
    EngineUnavailable => "cannot start the network engine: {0}; sessions cannot run (the next start or send tries again)", "无法启动网络引擎：{0}；会话无法运行（下次启动或发送时会再试）";
    SpillUnavailableAt => "cannot keep logs on disk in {0}: {1}; each session keeps only what its memory holds", "无法在 {0} 中将日志保存到磁盘：{1}；每个会话只保留内存中的部分";
    QuickFileThread => "cannot start reading or writing the file ({0})", "无法开始读写文件（{0}）";
    QuickFileLost => "the file job ended without an answer", "文件读写意外结束，没有结果";
    FramingTooLong => "length {0} exceeds the maximum frame of {1} bytes", "长度 {0} 超过最大帧长 {1} 字节";
    FramingBelowHeader => "length {0} is smaller than the {1}-byte header it includes", "长度 {0} 小于其包含的 {1} 字节头部";
    FramingNoValidLength => "a length field starting with {0} cannot give a frame of at most {1} bytes", "以 {0} 开头的长度字段无法给出不超过 {1} 字节的帧";
    FramingNoDelimiter => "no delimiter within {0} bytes", "{0} 字节内没有分隔符";
    FramingSyntax => "invalid framing '{0}': {1}", "分帧设置“{0}”无效：{1}";
    FormError => "{0}", "无法创建会话：{0}";
    SpecUnknownKind => "unknown session kind '{0}' (expected tcp-server, tcp-client, udp-server, udp-client, udp-group, tls-server, tls-client, ws-server, ws-client, relay, udp-relay, serial, ws:// or wss://)", "未知的会话类型“{0}”（可用：tcp-server、tcp-client、udp-server、udp-client、udp-group、tls-server、tls-client、ws-server、ws-client、relay、udp-relay、serial、ws:// 或 wss://）";
    SpecInvalidPort => "invalid port '{0}' (expected 0-65535)", "端口“{0}”无效（应为 0-65535）";
    SpecMissingHost => "{0} needs HOST:PORT", "{0} 需要 主机:端口";
    SpecInvalidHost => "invalid host '{0}'", "主机“{0}”无效";
    SpecClientPortZero => "a client needs a port between 1 and 65535", "客户端的端口须在 1 到 65535 之间";
    SpecInvalidTimeout => "invalid connect timeout '{0}' (timeout=MS, 1-3600000)", "连接超时“{0}”无效（timeout=毫秒数，1-3600000）";
    SpecInvalidOption => "invalid option '{0}' for {1} (accepted: {2})", "选项“{0}”不适用于 {1}（可用：{2}）";
    SpecNotMulticast => "'{0}' is not a multicast group (224.0.0.0/4 or ff00::/8)", "“{0}”不是组播地址（224.0.0.0/4 或 ff00::/8）";
    SpecCertWithoutKey => "cert=FILE and key=FILE go together", "cert=FILE 与 key=FILE 须同时给出";
    SpecUnexpectedPath => "{0} takes no /path (only WebSocket sessions do)", "{0} 不接受 /路径（仅 WebSocket 会话可以）";
    SpecMissingTarget => "{0} needs to=HOST:PORT (where each client is relayed to)", "{0} 需要 to=HOST:PORT（每个客户端被中继到的地址）";
    SpecMissingDevice => "serial needs a port: serial:/dev/ttyUSB0 or serial:COM3", "serial 需要串口：serial:/dev/ttyUSB0 或 serial:COM3";
    SpecSerialTargetMisfit => "{0} cannot relay to a serial port (only relay: can, without to-tls)", "{0} 不能中继到串口（只有 relay: 可以，且不能带 to-tls）";
    SpecLineWithoutSerialTarget => "baud=, data=, parity=, stop= and flow= are for a relay to=serial:PATH", "baud=、data=、parity=、stop= 和 flow= 只用于 to=serial:路径 的中继";
}
}

/// The string of `key` in `language`.
pub fn tr(language: Language, key: impl Words) -> &'static str {
    let [en, zh] = key.pair();
    match language {
        Language::English => en,
        Language::Chinese => zh,
    }
}

/// The string of `key` in `language` with `{0}`, `{1}`, ... replaced by `args`, in one pass
/// (a value holding `{1}` or `{a|b}` is inserted as it is).
///
/// An English string may say `{one|many}` for a word that follows the first value's number:
/// `"{0} client{|s}"` gives `1 client` and `2 clients`.
pub fn trf(language: Language, key: impl Words, args: &[&dyn std::fmt::Display]) -> String {
    let template = tr(language, key);
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    let one = args.first().is_some_and(|a| a == "1");
    let mut out =
        String::with_capacity(template.len() + args.iter().map(String::len).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        out.push_str(&rest[..open]);
        if let Some(arg) = inner.parse::<usize>().ok().and_then(|i| args.get(i)) {
            out.push_str(arg);
        } else if let Some((singular, plural)) = inner.split_once('|') {
            out.push_str(if one { singular } else { plural });
        } else {
            out.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<usize> {
        (0..10)
            .filter(|i| text.contains(&format!("{{{i}}}")))
            .collect()
    }

    #[test]
    fn english_counts_agree_with_their_number() {
        let en = |key, n: usize| trf(Language::English, key, &[&n]);
        assert_eq!(en(Text::SessionsCount, 1), "1 session");
        assert_eq!(en(Text::SessionsCount, 2), "2 sessions");
        assert_eq!(en(Text::Entries, 1), "1 entry");
        assert_eq!(en(Text::Entries, 0), "0 entries");
        assert_eq!(en(Text::ClientsCount, 11), "11 clients");
        assert_eq!(trf(Language::Chinese, Text::Entries, &[&1]), "1 条");
    }

    #[test]
    fn every_key_has_both_languages_with_the_same_placeholders() {
        fn check<K: Words + std::fmt::Debug>(keys: &[K]) {
            for &key in keys {
                let en = tr(Language::English, key);
                let zh = tr(Language::Chinese, key);
                assert!(!en.trim().is_empty(), "{key:?} has no English");
                assert!(!zh.trim().is_empty(), "{key:?} has no Chinese");
                assert_eq!(placeholders(en), placeholders(zh), "{key:?}");
                // Only words every language shares (OK) may be equal.
                assert!(en != zh, "{key:?} is not translated: {zh}");
            }
        }
        check(Text::ALL);
        check(Msg::ALL);
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            trf(Language::English, Text::Totals, &[&"1 B", &"2 B"]),
            "RX 1 B  TX 2 B"
        );
        assert_eq!(
            trf(Language::Chinese, Text::SessionsCount, &[&3]),
            "3 个会话"
        );
    }

    #[test]
    fn values_are_inserted_as_they_are() {
        assert_eq!(
            trf(Language::English, Text::Totals, &[&"{1} {a|b}", &"2 B"]),
            "RX {1} {a|b}  TX 2 B"
        );
    }

    #[test]
    fn locale_chooses_the_language() {
        assert_eq!(Language::from_locale("zh_CN.UTF-8"), Language::Chinese);
        assert_eq!(Language::from_locale("zh_TW"), Language::Chinese);
        assert_eq!(Language::from_locale("en_US.UTF-8"), Language::English);
        assert_eq!(Language::from_locale("C"), Language::English);
    }
}
