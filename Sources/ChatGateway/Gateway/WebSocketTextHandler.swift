import NIOCore
import NIOWebSocket

/// Turns complete data messages into text for the layers above and enforces the abuse
/// rules of docs/api.md: a text message that is not valid UTF-8 closes with 1007, a
/// message over the size limit with 1009. (The frame decoder closes single oversized
/// frames with 1009 itself; the aggregator before this handler reports fragmented
/// messages that grow too large, which only this handler maps to a close.) Binary
/// messages are decoded as UTF-8 too, as the old server did.
final class WebSocketTextHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = String

    private var closed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        let frame = unwrapInboundIn(data)
        let payload = frame.unmaskedData
        switch frame.opcode {
        case .text:
            guard let text = String(validating: payload.readableBytesView, as: UTF8.self) else {
                refuse(context: context, code: .dataInconsistentWithMessage)
                return
            }
            context.fireChannelRead(wrapInboundOut(text))
        case .binary:
            context.fireChannelRead(wrapInboundOut(String(decoding: payload.readableBytesView, as: UTF8.self)))
        default:
            return
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as NIOWebSocketFrameAggregator.Error:
            switch error {
            case .accumulatedFrameSizeIsTooLarge, .tooManyFragments, .nonFinalFragmentSizeIsTooSmall:
                refuse(context: context, code: .messageTooLarge)
            case .receivedNewFrameWithoutFinishingPrevious, .didReceiveFragmentBeforeReceivingTextOrBinaryFrame:
                refuse(context: context, code: .protocolError)
            }
        case is NIOWebSocketError:
            // WebSocketProtocolErrorHandler has already sent the close frame.
            closed = true
        default:
            context.close(promise: nil)
        }
    }

    private func refuse(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !closed else { return }
        closed = true
        context.channel.closeWebSocket(code: code)
    }
}
