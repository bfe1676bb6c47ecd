--@include rows
-- Friendship rows (`goodfriend`, JSON in chat:friends:{owner}) and friend requests
-- (`goodfriendapply`, the hash chat:apply:{id}), in the columns' order.
local FRIEND = { 'id', 'user_id', 'friend_id', 'nickname', 'friendlookme', 'melookfriend', 'ismystarfriend',
  'isblack', 'status', 'order', 'create_time', 'update_time' }
local REQUEST = { 'id', 'user_id', 'friend_id', 'nickname', 'status', 'order', 'create_time', 'update_time' }
local REQUEST_INTEGERS = { id = true, user_id = true, friend_id = true, order = true, _v = true }

-- A request row from its hash, integers as numbers; nil when the hash is gone.
local function read_request(key)
  return read_hash_row(key, REQUEST_INTEGERS)
end
