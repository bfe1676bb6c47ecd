import ChatGateway
import Logging
import ServiceLifecycle

/// Answers queued questions about `delay` after they were accepted (docs/api.md: "after
/// about 1.2 s"). One loop waits for the oldest question's time, then hands it to a
/// child task, so no task sleeps per question and a slow answer delays no other.
///
/// Graceful shutdown (after the HTTP/WebSocket server has stopped, so nothing new is
/// asked) answers what is queued at its due time, then returns: a shutdown waits at most
/// `delay` plus the last answers' round trips. A crash or a cancelled shutdown loses the
/// answers still waiting: the questions themselves are stored and delivered; only the
/// automatic answers to them are never sent.
package struct AutoReplyService: Service {
    static let defaultDelay: Duration = .milliseconds(1200)

    let queue: AutoReplyQueue
    let replier: AutoReplier
    var delay: Duration = defaultDelay
    var logger = Logger(label: "bridge.askanswer")

    package init(queue: AutoReplyQueue, replier: AutoReplier) {
        self.queue = queue
        self.replier = replier
    }

    package func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in queue.jobs {
                    do {
                        try await Task.sleep(until: job.accepted + delay, clock: .continuous)
                    } catch {
                        logger.warning("cancelled: queued questions get no automatic answer")
                        return
                    }
                    group.addTask { await replier.reply(to: job) }
                }
            }
        } onGracefulShutdown: {
            queue.finish()
        }
    }
}
