import ChatScripts

/// Where a routing script sent a message (the contracts' type, `ChatScripts.DeliveryRoute`).
typealias DeliveryRoute = ChatScripts.DeliveryRoute
