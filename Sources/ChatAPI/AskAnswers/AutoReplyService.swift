import ChatGateway
import Logging
import ServiceLifecycle

/// Answers queued questions about `delay` after they were accepted (docs/api.md: "after
/// about 1.2 s"). One loop waits for the oldest question's time, then hands it to one of
/// at most `workers` child tasks (`--auto-reply-workers`), so no task sleeps per question,
/// a slow answer delays no other while a worker is free, and the work in flight is
/// bounded: with every worker busy the loop waits, the queue fills, and new questions'
/// answers are dropped there (`AutoReplyQueue`; docs/architecture.md, *CPU bounds*).
///
/// Graceful shutdown (after the HTTP/WebSocket server has stopped, so nothing new is
/// asked) answers what is queued at its due time, then returns: a shutdown waits at most
/// `delay` plus the last answers' round trips. A crash or a cancelled shutdown loses the
/// answers still waiting: the questions themselves are stored and delivered; only the
/// automatic answers to them are never sent.
package struct AutoReplyService: Service {
    static let defaultDelay: Duration = .milliseconds(1200)
    package static let defaultWorkers = MessagePolicy().autoReplyWorkers

    let queue: AutoReplyQueue
    let replier: AutoReplier
    var delay: Duration = defaultDelay
    /// Answers being worked on at once, at most.
    let workers: Int
    var logger = Logger(label: "bridge.askanswer")

    package init(queue: AutoReplyQueue, replier: AutoReplier, workers: Int = defaultWorkers) {
        self.queue = queue
        self.replier = replier
        self.workers = max(1, workers)
    }

    package func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var busy = 0
                for await job in queue.jobs {
                    do {
                        try await Task.sleep(until: job.accepted + delay, clock: .continuous)
                    } catch {
                        logger.warning("cancelled: queued questions get no automatic answer")
                        return
                    }
                    if busy == workers {
                        await group.next()
                        busy -= 1
                    }
                    queue.taken()
                    group.addTask { await replier.reply(to: job) }
                    busy += 1
                }
            }
        } onGracefulShutdown: {
            queue.finish()
        }
    }
}
