# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The API's resources, one module each, as ``client.<resource>`` objects."""

from __future__ import annotations

from replicate_async._resources.predictions import AsyncPredictions

__all__ = ["AsyncPredictions"]
