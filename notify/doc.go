// Package notify tells people about alerts through chat robots and
// webhooks: generic JSON webhooks, WeCom (企业微信) group robots and
// DingTalk (钉钉) custom robots.
//
// For every alert change the alert manager calls Dispatcher.Messages with
// a Message: it renders the request body for every configured target whose
// district and kind filters match, and the store inserts these messages
// into the outbox in the same transaction as the alert change (a
// transactional outbox), so neither a crash nor a restart loses one; once
// committed, Dispatcher.Queued hands them to the workers. Nothing waits
// for the network. (Notify does both for a message without an alert
// change.) Run keeps one
// worker per target that delivers its messages in order, retries failures
// with exponential backoff and jitter, and gives a message up after
// Options.MaxAttempts attempts or Options.MaxAge. A target that hangs or
// fails only delays its own messages, and a worker holds at most
// Options.QueueSize messages in memory however many wait in the outbox.
//
// Several hallwatch nodes share one outbox in PostgreSQL. There, with
// Options.Shared, each target is delivered by Deliver on the one node that
// holds the target's lease (package cluster), which reads the outbox
// every few seconds since other nodes queue messages too: a message goes
// out once (at least once across a node's crash, as across a restart)
// and a target's messages stay in order.
//
// Webhook URLs carry access keys and DingTalk robots a signing secret:
// neither appears in logs, errors or Status; errors are scrubbed of them.
//
// # Generic webhook body
//
// A "webhook" target receives POST application/json, schema version 1:
//
//	{
//	  "version": 1,
//	  "alert_id": 42,
//	  "kind": "unstaffed",                 // or "camera_offline", "camera_blocked",
//	                                       // "storage_full"
//	  "state": "raised",                   // or "resolved"
//	  "district_id": "dongcheng", "district": "东城区",
//	  "center_id": "jingshan", "center": "景山街道市民服务中心",
//	  "camera_id": "cam1", "camera": "一楼大厅",
//	  "window_id": "w3", "window": "3号窗口", // omitted for the camera's alerts
//	  "at": "2026-03-02T09:42:00+08:00",   // raised or resolved, center's zone
//	  "since": "2026-03-02T09:41:00+08:00",// when the cause began
//	  "grace_seconds": 60,                 // cause lasted this long before the alert
//	  "duration_seconds": 0,               // resolved: how long the alert was open
//	  "board_url": "https://…/centers/jingshan", // omitted when unknown
//	  "text": "【窗口无人值守】…"            // the rendered message
//	}
//
// Fields are only ever added; a breaking change would raise "version".
//
// # Templates
//
// A notifier's template is a Go text/template producing the message text.
// Its data is the Message (times already in the center's zone) with the
// methods Since, Lasted and Title; the functions are hm (15:04), datetime
// (2006-01-02 15:04), dur (Chinese duration such as "4 分 12 秒") and
// kindname (窗口无人值守, 摄像机离线). Templates are parsed and tried on sample
// messages by New, so a mistake is a startup error naming the notifier.
package notify
