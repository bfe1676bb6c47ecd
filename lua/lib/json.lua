-- Building JSON text by hand, where the field order matters (the message object).

local json_escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r',
  ['\t'] = '\\t' }

-- A JSON string literal of `text`. Most texts need no escape: they are only searched.
local function quote(text)
  if not string.find(text, '[%c"\\]') then
    return '"' .. text .. '"'
  end
  return '"' .. (string.gsub(text, '[%c"\\]', function(c)
    return json_escapes[c] or string.format('\\u%04x', string.byte(c))
  end)) .. '"'
end

-- `value` when it is a non-empty string, else nil (for `a or b` fallbacks of names).
local function non_empty(value)
  return type(value) == 'string' and value ~= '' and value or nil
end
