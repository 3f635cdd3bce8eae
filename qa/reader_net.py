"""The reader's network: the embedding model's encoder with two small heads. Kept apart from
`qa.reader` so that importing `qa` never imports torch; only loading a reader does."""

from __future__ import annotations

import torch

__all__ = ["ReaderNet", "lower_states", "upper_forward"]


class ReaderNet(torch.nn.Module):
    """Relevance logit from the first token; start/end logits for every token (padding masked)."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.relevance = torch.nn.Linear(hidden, 1)
        self.span = torch.nn.Linear(hidden, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        start, end = self.span(hidden).unbind(-1)
        padding = attention_mask == 0
        return (self.relevance(hidden[:, 0]).squeeze(-1), start.masked_fill(padding, -1e4),
                end.masked_fill(padding, -1e4))


def lower_states(net: ReaderNet, input_ids: torch.Tensor, attention_mask: torch.Tensor, layers: int) -> torch.Tensor:
    """The hidden states entering encoder layer `layers` (training caches them when the layers
    below are frozen)."""
    with torch.inference_mode():
        out = net.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    return out.hidden_states[layers].clone()


def upper_forward(net: ReaderNet, hidden: torch.Tensor, attention_mask: torch.Tensor, layers: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`net.forward` from the hidden states entering layer `layers` on: the same outputs."""
    from transformers.masking_utils import create_bidirectional_mask

    mask = create_bidirectional_mask(config=net.encoder.config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in net.encoder.encoder.layer[layers:]:
        hidden = layer(hidden, attention_mask=mask)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    start, end = net.span(hidden).unbind(-1)
    padding = attention_mask == 0
    return (net.relevance(hidden[:, 0]).squeeze(-1), start.masked_fill(padding, -1e4),
            end.masked_fill(padding, -1e4))
